"""The python etcd3gw client (Debian python3-etcd3gw) driven through one scenario against
the gateway at 127.0.0.1:PORT (api_path /v3/); prints one JSON line per step, ids masked by
the caller. Used by test/compat/gateway.test.ts against etcd and etcdts."""
import json
import sys
import threading
import time

import etcd3gw
from etcd3gw.client import Etcd3Client

port = int(sys.argv[1])
c = Etcd3Client(host='127.0.0.1', port=port, api_path='/v3/')
out = []


def step(name, fn):
    try:
        v = fn()
    except Exception as e:  # the client's exception class and text
        v = {'exception': type(e).__name__, 'text': str(e)}
    out.append({'step': name, 'value': v})


def b(x):
    return x.decode() if isinstance(x, bytes) else x


step('status keys', lambda: sorted(c.status().keys()))
step('members', lambda: [sorted(m.keys()) for m in c.members()])
step('put', lambda: c.put('foo', 'bar'))
step('create existing', lambda: c.create('foo', 'x'))
step('create new', lambda: c.create('foo2', 'y'))
step('get', lambda: [b(v) for v in c.get('foo')])
step('get metadata', lambda: [(b(v), sorted(m.keys())) for v, m in c.get('foo', metadata=True)])
step('get missing', lambda: c.get('nothing'))
step('get_prefix', lambda: [(b(v), b(m['key'])) for v, m in c.get_prefix('foo')])
step('get_all', lambda: [b(v) for v, m in c.get_all()])
step('replace ok', lambda: c.replace('foo', 'bar', 'baz'))
step('replace stale', lambda: c.replace('foo', 'bar', 'qux'))
lease = c.lease(30)
step('lease ttl', lambda: 25 <= lease.ttl() <= 30)
step('lease put', lambda: c.put('leased', 'v', lease=lease))
step('lease keys', lambda: [b(k) for k in lease.keys()])
step('lease refresh', lambda: lease.refresh())
step('lease revoke', lambda: lease.revoke())
step('lease ttl after revoke', lambda: lease.ttl())
step('get after revoke', lambda: c.get('leased'))
lock = c.lock('mylock', ttl=30)
step('lock acquire', lambda: lock.acquire())
step('lock is held', lambda: c.lock('mylock', ttl=30).acquire())
step('lock refresh', lambda: lock.refresh())
step('lock release', lambda: lock.release())
step('txn', lambda: c.transaction({
    'compare': [{'key': etcd3gw.utils._encode('foo'), 'result': 'EQUAL', 'target': 'VALUE', 'value': etcd3gw.utils._encode('baz')}],
    'success': [{'request_range': {'key': etcd3gw.utils._encode('foo')}}],
    'failure': []})['succeeded'])
events, cancel = c.watch('watched')
got = []


def reader():
    for ev in events:
        got.append({'type': ev.get('type', 'PUT'), 'key': b(ev['kv']['key']), 'value': b(ev['kv'].get('value', b''))})
        if len(got) == 2:
            break


t = threading.Thread(target=reader, daemon=True)
t.start()
time.sleep(0.5)
c.put('watched', 'w1')
c.delete('watched')
t.join(10)
cancel()
step('watch events', lambda: got)
step('delete', lambda: c.delete('foo2'))
step('delete missing', lambda: c.delete('foo2'))
step('delete_prefix', lambda: c.delete_prefix('foo'))
step('get_all after', lambda: [b(v) for v, m in c.get_all()])
print(json.dumps(out))
