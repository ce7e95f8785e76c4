/**
 * A configuration the member cannot start with: an unknown flag, a bad value, an inconsistent
 * combination, a feature etcdts does not serve yet. The message follows etcd's own wording where
 * etcd has one, so operators recognise it; `flag` and `value` name the culprit when there is one.
 */
export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly flag: string | undefined;
  readonly value: string | undefined;

  constructor(message: string, flag?: string, value?: string) {
    super(message);
    this.flag = flag;
    this.value = value;
  }
}
