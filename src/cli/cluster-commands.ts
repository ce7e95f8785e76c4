/** ctl member list, endpoint health, endpoint status: etcdctl's outputs (printer*.go). */
import { hex } from '../base/int64.js';
import type { EtcdClient } from '../client/client.js';
import { goJson } from './go-json.js';
import { goDuration, goJsonString, goQuote, humanizeBytes } from './go-format.js';
import { CliExit, ExitCode } from './output.js';
import type { PrintOptions } from './printers.js';
import { renderTable } from './table.js';

type Obj = Record<string, unknown>;

export interface ClusterCtx {
  client: () => EtcdClient;
  endpoints: string[];
  print: PrintOptions;
  out: (s: string) => void;
  err: (s: string) => void;
}

function hdrFields(h: Obj): string {
  return `"ClusterID" : ${h.cluster_id ?? 0}\n"MemberID" : ${h.member_id ?? 0}\n"Revision" : ${h.revision ?? 0}\n"RaftTerm" : ${h.raft_term ?? 0}\n`;
}

export async function memberList(ctx: ClusterCtx): Promise<void> {
  const resp = await ctx.client().memberList();
  const members = (resp.members as Obj[]) ?? [];
  const rows = members.map((m) => [
    hex(BigInt(m.ID as string)),
    m.name ? 'started' : 'unstarted',
    String(m.name ?? ''),
    ((m.peerURLs as string[]) ?? []).join(','),
    ((m.clientURLs as string[]) ?? []).join(','),
    String(!!m.isLearner),
  ]);
  switch (ctx.print.format) {
    case 'json':
      return ctx.out(goJson('etcdserverpb.MemberListResponse', resp) + '\n');
    case 'table':
      return ctx.out(renderTable(['ID', 'STATUS', 'NAME', 'PEER ADDRS', 'CLIENT ADDRS', 'IS LEARNER'], rows));
    case 'fields': {
      let s = hdrFields(resp.header as Obj);
      for (const m of members) {
        s += `"ID" : ${m.ID}\n"Name" : ${goQuote(String(m.name ?? ''))}\n`;
        for (const u of (m.peerURLs as string[]) ?? []) s += `"PeerURL" : ${goQuote(u)}\n`;
        for (const u of (m.clientURLs as string[]) ?? []) s += `"ClientURL" : ${goQuote(u)}\n`;
        s += `"IsLearner" : ${!!m.isLearner}\n\n`;
      }
      return ctx.out(s);
    }
    default:
      return ctx.out(rows.map((r) => r.join(', ') + '\n').join(''));
  }
}

interface Health {
  ep: string;
  health: boolean;
  tookNs: number;
  error: string;
}

export async function endpointHealth(ctx: ClusterCtx): Promise<void> {
  const client = ctx.client();
  const results = await Promise.all(
    ctx.endpoints.map(async (ep): Promise<Health> => {
      const start = process.hrtime.bigint();
      try {
        // etcdctl: a linearizable Get of "health"; permission denied still proves a quorum.
        await client.rangeOn(ep, { key: Buffer.from('health') });
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        if (msg !== 'etcdserver: permission denied') {
          return { ep, health: false, tookNs: Number(process.hrtime.bigint() - start), error: msg };
        }
      }
      const tookNs = Number(process.hrtime.bigint() - start);
      try {
        const alarms = ((await client.alarmList(ep)).alarms as Obj[]) ?? [];
        if (alarms.length > 0) {
          const names = ['NONE', 'NOSPACE', 'CORRUPT'];
          const text = 'Active Alarm(s): ' + alarms.map((a) => `${names[a.alarm as number] ?? a.alarm} `).join('');
          return { ep, health: false, tookNs, error: text };
        }
      } catch (e) {
        return { ep, health: false, tookNs, error: `Unable to fetch the alarm list: ${e instanceof Error ? e.message : String(e)}` };
      }
      return { ep, health: true, tookNs, error: '' };
    }),
  );
  switch (ctx.print.format) {
    case 'json':
      ctx.out(
        '[' +
          results
            .map(
              (h) =>
                `{"endpoint":${goJsonString(h.ep)},"health":${h.health},"took":${goJsonString(goDuration(h.tookNs))}${h.error ? `,"error":${goJsonString(h.error)}` : ''}}`,
            )
            .join(',') +
          ']\n',
      );
      break;
    case 'table':
      ctx.out(renderTable(['ENDPOINT', 'HEALTH', 'TOOK', 'ERROR'], results.map((h) => [h.ep, String(h.health), goDuration(h.tookNs), h.error])));
      break;
    case 'fields':
      for (const h of results) {
        ctx.out(`"Endpoint" : ${goQuote(h.ep)}\n"Health" : ${h.health}\n"Took" : ${goDuration(h.tookNs)}\n"Error" : ${h.error}\n\n`);
      }
      break;
    default:
      // etcdctl 3.4 writes both lines to stderr.
      for (const h of results) {
        if (h.health) ctx.err(`${h.ep} is healthy: successfully committed proposal: took = ${goDuration(h.tookNs)}\n`);
        else ctx.err(`${h.ep} is unhealthy: failed to commit proposal: ${h.error}\n`);
      }
  }
  if (results.some((h) => !h.health)) throw new CliExit(ExitCode.Error, 'unhealthy cluster');
}

export async function endpointStatus(ctx: ClusterCtx): Promise<void> {
  const client = ctx.client();
  const statuses: { ep: string; resp: Obj }[] = [];
  for (const ep of ctx.endpoints) {
    try {
      statuses.push({ ep, resp: await client.status(ep) });
    } catch (e) {
      ctx.err(`Failed to get the status of endpoint ${ep} (${e instanceof Error ? e.message : String(e)})\n`);
    }
  }
  const rows = statuses.map(({ ep, resp }) => {
    const h = resp.header as Obj;
    return [
      ep,
      hex(BigInt(h.member_id as string)),
      String(resp.version),
      humanizeBytes(Number(resp.dbSize)),
      String(resp.leader === h.member_id),
      String(!!resp.isLearner),
      String(resp.raftTerm),
      String(resp.raftIndex),
      String(resp.raftAppliedIndex),
      ((resp.errors as string[]) ?? []).join(', '),
    ];
  });
  switch (ctx.print.format) {
    case 'json':
      ctx.out('[' + statuses.map(({ ep, resp }) => `{"Endpoint":${goJsonString(ep)},"Status":${goJson('etcdserverpb.StatusResponse', resp)}}`).join(',') + ']\n');
      break;
    case 'table':
      ctx.out(
        renderTable(
          ['ENDPOINT', 'ID', 'VERSION', 'DB SIZE', 'IS LEADER', 'IS LEARNER', 'RAFT TERM', 'RAFT INDEX', 'RAFT APPLIED INDEX', 'ERRORS'],
          rows,
        ),
      );
      break;
    case 'fields':
      for (const { ep, resp } of statuses) {
        ctx.out(
          hdrFields(resp.header as Obj) +
            `"Version" : ${goQuote(String(resp.version))}\n"DBSize" : ${resp.dbSize}\n"Leader" : ${resp.leader}\n"IsLearner" : ${!!resp.isLearner}\n` +
            `"RaftIndex" : ${resp.raftIndex}\n"RaftTerm" : ${resp.raftTerm}\n"RaftAppliedIndex" : ${resp.raftAppliedIndex}\n` +
            `"Errors" : [${((resp.errors as string[]) ?? []).join(' ')}]\n"Endpoint" : ${goQuote(ep)}\n\n`,
        );
      }
      break;
    default:
      ctx.out(rows.map((r) => r.join(', ') + '\n').join(''));
  }
  if (statuses.length < ctx.endpoints.length) throw new CliExit(ExitCode.Error, 'context deadline exceeded');
}
