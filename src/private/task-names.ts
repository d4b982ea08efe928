/**
 * Per-task host names and SRV records of a registration (`ServiceOptions.taskNames` and `srv`): the options
 * checked and turned into the contract's fields, the names they add (for the "a name belongs to one service"
 * check and the DNS limits) and what the record-write policy must allow for them.
 */
import { Token, aws_ecs as ecs } from 'aws-cdk-lib';
import { checkPort, defaultContainerPort } from './container-port';
import { SrvConfig } from '../shared/contract';
import { labelFault, MAX_LABEL_LENGTH, MAX_NAME_LENGTH, stripDot } from '../shared/dns-name';
import { SrvProtocol, SrvRecordOptions } from '../srv-record';

/** Length of a task id: the last segment of a task ARN, 32 hexadecimal characters. */
export const TASK_ID_LENGTH = 32;
/** SRV priority when none is given. */
export const DEFAULT_SRV_PRIORITY = 0;
/** SRV weight when none is given: every task gets an equal share. */
export const DEFAULT_SRV_WEIGHT = 1;

/** What a registration publishes below its name. */
export interface TaskNamesSettings {
  readonly taskNames: boolean;
  readonly srv?: SrvConfig;
}

/**
 * Checks the options and derives the settings: `srv` turns task names on (its targets are the task names),
 * unless `taskNames` is false, which is refused.
 */
export function taskNamesSettings(
  service: ecs.BaseService, fqdn: string, options: { readonly taskNames?: boolean; readonly srv?: SrvRecordOptions }, where: string,
): TaskNamesSettings {
  const { srv } = options;
  if (srv === undefined) {
    const taskNames = options.taskNames === true;
    if (taskNames) {
      checkNameLength(taskPatternName(fqdn), `task host name (<task id>.<name>) of the ${where}`);
    }
    return { taskNames };
  }
  if (options.taskNames === false) {
    throw new Error(`The ${where} publishes SRV records (srv) but sets taskNames to false: every SRV value points at a task's own `
      + 'host name (<task id>.<name>), so SRV records need task names; remove taskNames: false (srv turns task names on).');
  }
  const serviceLabel = srvServiceLabel(srv.service, where);
  const protocol = srv.protocol ?? SrvProtocol.TCP;
  if (!Object.values(SrvProtocol).includes(protocol)) {
    throw new Error(`The srv.protocol of the ${where} is ${JSON.stringify(protocol)}, which is not one of `
      + `${Object.values(SrvProtocol).map(v => JSON.stringify(v)).join(', ')}: use SrvProtocol.TCP, UDP, TLS or SCTP.`);
  }
  const port = srv.port === undefined ? defaultContainerPort(service, where, 'srv') : checkPort(srv.port, where, 'srv');
  const priority = checkSrvNumber(srv.priority, DEFAULT_SRV_PRIORITY, 'priority', where);
  const weight = checkSrvNumber(srv.weight, DEFAULT_SRV_WEIGHT, 'weight', where);
  const srvFqdn = `_${serviceLabel}._${protocol}.${fqdn}`;
  checkNameLength(taskPatternName(fqdn), `task host name (<task id>.<name>) of the ${where}`);
  checkNameLength(srvFqdn, `SRV record name of the ${where}`);
  return { taskNames: true, srv: { fqdn: srvFqdn, priority, weight, port } };
}

/** The service label of an SRV name, lower case: a literal DNS label given without its underscore. */
function srvServiceLabel(label: string, where: string): string {
  if (Token.isUnresolved(label)) {
    throw new Error(`The srv.service of the ${where} is only known at deploy time, but it is part of the SRV record name that `
      + 'the IAM conditions compare exactly: give it as a literal, e.g. \'minecraft\'.');
  }
  if (label.startsWith('_')) {
    throw new Error(`The srv.service of the ${where} is '${label}': give it without the leading underscore (e.g. '${label.replace(/^_+/, '')}'); `
      + 'the record name is written _<service>._<protocol>.<name>.');
  }
  const fault = labelFault(label);
  if (fault !== undefined || label.includes('_')) {
    throw new Error(`The srv.service of the ${where} is '${label}', which is not a DNS label (${fault ?? 'characters'}): use letters, `
      + `digits and '-' only, at most ${MAX_LABEL_LENGTH} characters, not starting or ending with '-', e.g. 'minecraft'.`);
  }
  return label.toLowerCase();
}

function checkSrvNumber(value: number | undefined, fallback: number, option: string, where: string): number {
  if (value === undefined) {
    return fallback;
  }
  if (Token.isUnresolved(value) || !Number.isInteger(value) || value < 0 || value > 65535) {
    throw new Error(`The srv.${option} of the ${where} is ${Token.isUnresolved(value) ? 'only known at deploy time' : value}, but it must be `
      + `a literal whole number in 0..65535 (RFC 2782): e.g. ${fallback}.`);
  }
  return value;
}

/** The longest task host name of a name: a task id's 32 characters, then the name. */
function taskPatternName(fqdn: string): string {
  return `${'x'.repeat(TASK_ID_LENGTH)}.${fqdn}`;
}

function checkNameLength(fqdn: string, what: string): void {
  const body = stripDot(fqdn);
  if (body.length > MAX_NAME_LENGTH) {
    throw new Error(`The ${what} is up to '${fqdn}', ${body.length} characters long; DNS allows at most `
      + `${MAX_NAME_LENGTH} (255 octets on the wire): use a shorter name.`);
  }
}

/**
 * The IAM pattern of a name's task host names, normalized (lower case, no trailing dot): 32 `?`, each matching
 * exactly one character, then `.<name>`.
 */
export function taskNamePattern(normalizedName: string): string {
  return `${'?'.repeat(TASK_ID_LENGTH)}.${normalizedName}`;
}

/** The names a registration writes, as the IAM conditions list them (normalized), besides its own name. */
export function extraWriteNames(normalizedName: string, settings: TaskNamesSettings): string[] {
  return [
    ...(settings.taskNames ? [taskNamePattern(normalizedName)] : []),
    ...(settings.srv ? [stripDot(settings.srv.fqdn)] : []),
  ];
}

/** The names of a registration for the "a name belongs to one service" check. */
export interface OwnedNames {
  readonly fqdn: string;
  readonly taskNames: boolean;
  readonly srv?: SrvConfig;
}

/**
 * Why the names of `a` and `b` overlap, or undefined: a name of one (its name, or its SRV name) is the other's
 * name or SRV name, or falls under the other's task-name pattern (any 32 characters, then `.<name>`).
 */
export function overlapOf(a: OwnedNames, b: OwnedNames): string | undefined {
  const concrete = (r: OwnedNames) => [r.fqdn, ...(r.srv ? [r.srv.fqdn] : [])];
  const underPattern = (name: string, r: OwnedNames) => r.taskNames && name.length === TASK_ID_LENGTH + 1 + r.fqdn.length
    && name.endsWith(`.${r.fqdn}`);
  for (const name of concrete(a)) {
    if (concrete(b).includes(name)) {
      return `'${name}' is a name of both`;
    }
    if (underPattern(name, b)) {
      return `'${name}' would be the host name of a task of '${b.fqdn}'`;
    }
  }
  for (const name of concrete(b)) {
    if (underPattern(name, a)) {
      return `'${name}' would be the host name of a task of '${a.fqdn}'`;
    }
  }
  return undefined;
}
