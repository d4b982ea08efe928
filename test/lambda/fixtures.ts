/**
 * Builders shared by the Lambda unit tests: a configuration, documented ECS Task State Change
 * events and Route53 record sets.
 */
import type { RecordSet, TaskEvent } from '../../src/lambda/model';
import type { DiscoveryConfig, RegisteredService } from '../../src/shared/contract';

export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';
export const CLUSTER_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/games`;
export const OTHER_CLUSTER_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/other`;
export const ZONE = 'Z1R8UBAEXAMPLE';
export const OTHER_ZONE = 'Z2OTHERZONE';

export const MC: RegisteredService = {
  serviceName: 'minecraft', name: 'mc', fqdn: 'mc.example.com.', ttl: 60, ttlTagged: false, hostedZoneId: ZONE,
};
export const WEB: RegisteredService = {
  serviceName: 'web', name: 'web', fqdn: 'web.example.com.', ttl: 30, ttlTagged: true, hostedZoneId: ZONE,
};
export const API: RegisteredService = {
  serviceName: 'api', name: 'api.other', fqdn: 'api.other.net.', ttl: 300, ttlTagged: true, hostedZoneId: OTHER_ZONE,
};

export const CONFIG: DiscoveryConfig = { clusterArn: CLUSTER_ARN, services: [MC, WEB, API] };

/** A task ARN in the new format (cluster name included). */
export function taskArn(id: string, cluster = 'games'): string {
  return `arn:aws:ecs:${REGION}:${ACCOUNT}:task/${cluster}/${id}`;
}

export interface EventOptions {
  readonly id: string;
  readonly lastStatus?: string;
  readonly desiredStatus?: string;
  readonly version?: number;
  readonly group?: string | null;
  readonly clusterArn?: string;
  readonly eniId?: string | null;
  readonly attachmentType?: string;
}

/**
 * An EventBridge "ECS Task State Change" event as documented
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_task_events.html), trimmed to
 * the fields that matter plus a few that do not.
 */
export function ecsEvent(o: EventOptions): Record<string, unknown> {
  const lastStatus = o.lastStatus ?? 'RUNNING';
  const detail: Record<string, unknown> = {
    attachments: o.eniId === null ? [] : [{
      id: 'a1b2c3d4-0000-1111-2222-333344445555',
      type: o.attachmentType ?? 'eni',
      status: 'ATTACHED',
      details: [
        { name: 'subnetId', value: 'subnet-0123456789abcdef0' },
        { name: 'networkInterfaceId', value: o.eniId ?? `eni-${o.id}` },
        { name: 'macAddress', value: '0a:1b:2c:3d:4e:5f' },
        { name: 'privateIPv4Address', value: '10.0.0.10' },
      ],
    }],
    availabilityZone: `${REGION}a`,
    clusterArn: o.clusterArn ?? CLUSTER_ARN,
    containers: [],
    createdAt: '2026-01-01T00:00:00.000Z',
    launchType: 'FARGATE',
    cpu: '256',
    memory: '512',
    desiredStatus: o.desiredStatus ?? 'RUNNING',
    lastStatus,
    taskArn: taskArn(o.id),
    taskDefinitionArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/minecraft:3`,
    updatedAt: '2026-01-01T00:01:00.000Z',
    version: o.version ?? 1,
  };
  if (o.group !== null) {
    detail.group = o.group ?? `service:${MC.serviceName}`;
  }
  return {
    'version': '0',
    'id': `evt-${o.id}-${o.version ?? 1}`,
    'detail-type': 'ECS Task State Change',
    'source': 'aws.ecs',
    'account': ACCOUNT,
    'time': '2026-01-01T00:01:00Z',
    'region': REGION,
    'resources': [taskArn(o.id)],
    detail,
  };
}

/** A start event (RUNNING / RUNNING). */
export const startEvent = (id: string, more: Partial<EventOptions> = {}) => ecsEvent({ id, lastStatus: 'RUNNING', desiredStatus: 'RUNNING', version: 2, ...more });
/** A stop event (STOPPED / STOPPED). */
export const stopEvent = (id: string, more: Partial<EventOptions> = {}) => ecsEvent({ id, lastStatus: 'STOPPED', desiredStatus: 'STOPPED', version: 6, ...more });

/** The parsed form of {@link ecsEvent}. */
export function taskEvent(o: EventOptions & { messageId?: string }): TaskEvent {
  return {
    messageId: o.messageId ?? `m-${o.id}`,
    taskArn: taskArn(o.id),
    taskId: o.id,
    clusterArn: o.clusterArn ?? CLUSTER_ARN,
    group: o.group === null ? undefined : o.group ?? `service:${MC.serviceName}`,
    lastStatus: o.lastStatus ?? 'RUNNING',
    desiredStatus: o.desiredStatus ?? 'RUNNING',
    version: o.version ?? 1,
    eniId: o.eniId === null ? undefined : o.eniId ?? `eni-${o.id}`,
  };
}

/** A record this library owns. */
export function ownedRecord(service: RegisteredService, taskId: string, ip: string, ttl = service.ttl): RecordSet {
  return { Name: service.fqdn, Type: 'A', SetIdentifier: taskId, MultiValueAnswer: true, TTL: ttl, ResourceRecords: [{ Value: ip }] };
}

/** A simple-routing A record (not owned). */
export function simpleRecord(service: RegisteredService, ip = '198.51.100.1'): RecordSet {
  return { Name: service.fqdn, Type: 'A', TTL: 300, ResourceRecords: [{ Value: ip }] };
}

/** A weighted A record (not owned). */
export function weightedRecord(service: RegisteredService, id = 'blue', ip = '198.51.100.2'): RecordSet {
  return { Name: service.fqdn, Type: 'A', SetIdentifier: id, Weight: 10, TTL: 300, ResourceRecords: [{ Value: ip }] };
}

/** A CNAME record (not owned). */
export function cnameRecord(service: RegisteredService, target = 'elsewhere.example.net.'): RecordSet {
  return { Name: service.fqdn, Type: 'CNAME', TTL: 300, ResourceRecords: [{ Value: target }] };
}

/** A public IP per task id, stable and distinct. */
export function ipOf(n: number): string {
  return `203.0.${Math.floor(n / 250)}.${(n % 250) + 1}`;
}
