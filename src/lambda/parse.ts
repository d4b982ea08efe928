/**
 * Reading what arrives from outside into the model's shapes: ECS Task State Change events (as SQS message
 * bodies or bare), and the parts of the SDK's answers that share their shapes (ECS attachments, AWS tag
 * lists). Pure: no I/O, no decisions beyond "is this well formed".
 */
import { MalformedMessage, TaskEvent } from './model';
import { isObject as isRecord, taskIdFromArn } from '../shared/contract';

const TASK_ARN = /^arn:[a-z-]+:ecs:[a-z0-9-]+:\d{12}:task\/.+$/;

/** Parses one message body (an EventBridge ECS Task State Change event) or says why it cannot. */
export function parseTaskEvent(messageId: string, body: unknown): TaskEvent | MalformedMessage {
  let event: unknown = body;
  if (typeof body === 'string') {
    try {
      event = JSON.parse(body);
    } catch {
      return { messageId, reason: 'body is not JSON' };
    }
  }
  if (!isRecord(event)) {
    return { messageId, reason: 'body is not a JSON object' };
  }
  if (event.source !== 'aws.ecs' || event['detail-type'] !== 'ECS Task State Change') {
    return { messageId, reason: `not an ECS Task State Change event (source ${JSON.stringify(event.source)}, detail-type ${JSON.stringify(event['detail-type'])})` };
  }
  const detail = event.detail;
  if (!isRecord(detail)) {
    return { messageId, reason: 'event has no detail object' };
  }
  const { taskArn, clusterArn, lastStatus, desiredStatus } = detail;
  if (typeof taskArn !== 'string' || !TASK_ARN.test(taskArn)) {
    return { messageId, reason: `detail.taskArn is not a task ARN: ${JSON.stringify(taskArn)}` };
  }
  if (typeof clusterArn !== 'string' || clusterArn === '') {
    return { messageId, reason: `detail.clusterArn is missing: ${JSON.stringify(clusterArn)}` };
  }
  if (typeof lastStatus !== 'string' || typeof desiredStatus !== 'string') {
    return { messageId, reason: `detail.lastStatus / detail.desiredStatus are missing: ${JSON.stringify([lastStatus, desiredStatus])}` };
  }
  const version = detail.version === undefined ? 0 : Number(detail.version);
  if (!Number.isFinite(version)) {
    return { messageId, reason: `detail.version is not a number: ${JSON.stringify(detail.version)}` };
  }
  return {
    messageId,
    taskArn,
    taskId: taskIdFromArn(taskArn),
    clusterArn,
    group: typeof detail.group === 'string' ? detail.group : undefined,
    lastStatus,
    desiredStatus,
    version,
    eniId: eniFromAttachments(detail.attachments),
    ...(typeof detail.healthStatus === 'string' ? { healthStatus: detail.healthStatus } : {}),
  };
}

/** True when the value is a {@link MalformedMessage} rather than a parsed event. */
export function isMalformed(v: TaskEvent | MalformedMessage): v is MalformedMessage {
  return (v as TaskEvent).taskArn === undefined;
}

/** Finds the ENI id in ECS `attachments` (events and DescribeTasks share this shape). */
export function eniFromAttachments(attachments: unknown): string | undefined {
  if (!Array.isArray(attachments)) {
    return undefined;
  }
  for (const a of attachments) {
    if (!isRecord(a) || (a.type !== 'eni' && a.type !== 'ElasticNetworkInterface') || !Array.isArray(a.details)) {
      continue;
    }
    for (const d of a.details) {
      if (isRecord(d) && d.name === 'networkInterfaceId' && typeof d.value === 'string' && d.value !== '') {
        return d.value;
      }
    }
  }
  return undefined;
}

/** Reads an AWS tag list (`[{Key, Value}]` or `[{key, value}]`) into a map. */
export function tagMap(tags: ReadonlyArray<{ Key?: string; Value?: string; key?: string; value?: string }> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of tags ?? []) {
    const k = t.Key ?? t.key;
    const v = t.Value ?? t.value;
    if (k !== undefined && v !== undefined) {
      out[k] = v;
    }
  }
  return out;
}
