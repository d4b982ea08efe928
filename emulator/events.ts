/**
 * Builders of ECS "Task State Change" events in the shape EventBridge delivers them, and of the SQS
 * batch event the queue → Lambda trigger hands to the function (each message body is the
 * EventBridge event, serialised).
 */
import { createHash, randomUUID } from 'crypto';
import type { TaskInfo } from './world';
import { ACCOUNT, REGION } from './world';

export type TaskStatus = 'PROVISIONING' | 'PENDING' | 'ACTIVATING' | 'RUNNING' | 'DEACTIVATING' | 'STOPPING' | 'DEPROVISIONING' | 'STOPPED';

/** `detail.version` grows by one per change of a task; these are the values of a typical Fargate lifecycle. */
export const VERSION_OF: Record<TaskStatus, number> = {
  PROVISIONING: 1,
  PENDING: 2,
  ACTIVATING: 3,
  RUNNING: 4,
  DEACTIVATING: 5,
  STOPPING: 6,
  DEPROVISIONING: 7,
  STOPPED: 8,
};

const ATTACHMENT_STATUS: Record<TaskStatus, string> = {
  PROVISIONING: 'PRECREATED',
  PENDING: 'ATTACHING',
  ACTIVATING: 'ATTACHED',
  RUNNING: 'ATTACHED',
  DEACTIVATING: 'ATTACHED',
  STOPPING: 'DETACHING',
  DEPROVISIONING: 'DETACHED',
  STOPPED: 'DELETED',
};

export interface TaskEventOptions {
  readonly lastStatus: TaskStatus;
  /** Default: RUNNING up to RUNNING, STOPPED from DEACTIVATING on. */
  readonly desiredStatus?: 'RUNNING' | 'STOPPED';
  /** Default: {@link VERSION_OF} the last status. */
  readonly version?: number;
  readonly stoppedReason?: string;
  readonly stopCode?: string;
  /** Event time; default now. */
  readonly time?: Date;
  /** Overrides of detail fields (e.g. another group or cluster). */
  readonly detail?: Record<string, unknown>;
}

/** An ECS Task State Change event for a task created in the emulator. */
export function taskStateChange(task: TaskInfo, options: TaskEventOptions): Record<string, unknown> {
  const { lastStatus } = options;
  const stopping = VERSION_OF[lastStatus] >= VERSION_OF.DEACTIVATING;
  const desiredStatus = options.desiredStatus ?? (stopping ? 'STOPPED' : 'RUNNING');
  const time = options.time ?? new Date();
  const created = task.createdAt.toISOString();
  const started = new Date(task.createdAt.getTime() + 20_000).toISOString();
  const containerStatus = lastStatus === 'STOPPED' ? 'STOPPED' : lastStatus === 'RUNNING' || stopping ? 'RUNNING' : 'PENDING';
  const attachmentId = createHash('sha1').update(task.eniId).digest('hex').slice(0, 8) + '-0000-4000-8000-' + task.eniId.slice(-12).padStart(12, '0');
  const detail: Record<string, unknown> = {
    attachments: [{
      id: attachmentId,
      type: 'eni',
      status: ATTACHMENT_STATUS[lastStatus],
      details: [
        { name: 'subnetId', value: task.subnetId },
        { name: 'networkInterfaceId', value: task.eniId },
        { name: 'macAddress', value: task.macAddress },
        { name: 'privateDnsName', value: `ip-${task.privateIp.replace(/\./g, '-')}.ec2.internal` },
        { name: 'privateIPv4Address', value: task.privateIp },
      ],
    }],
    attributes: [{ name: 'ecs.cpu-architecture', value: 'x86_64' }],
    availabilityZone: task.availabilityZone,
    capacityProviderName: 'FARGATE',
    clusterArn: task.clusterArn,
    connectivity: 'CONNECTED',
    connectivityAt: created,
    containers: [{
      containerArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:container/${task.clusterArn.split('/').pop()}/${task.taskId}/${createHash('sha1').update(task.taskId).digest('hex').slice(0, 32)}`,
      lastStatus: containerStatus,
      name: 'app',
      image: 'public.ecr.aws/docker/library/nginx:stable',
      taskArn: task.taskArn,
      networkInterfaces: [{ attachmentId, privateIpv4Address: task.privateIp }],
      cpu: '256',
      memory: '512',
      ...(lastStatus === 'STOPPED' ? { exitCode: 0 } : {}),
    }],
    cpu: '256',
    createdAt: created,
    desiredStatus,
    enableExecuteCommand: false,
    ephemeralStorage: { sizeInGiB: 20 },
    group: task.group,
    launchType: 'FARGATE',
    lastStatus,
    memory: '512',
    overrides: { containerOverrides: [{ name: 'app' }] },
    platformVersion: '1.4.0',
    pullStartedAt: created,
    pullStoppedAt: started,
    startedAt: started,
    startedBy: `ecs-svc/${task.serviceName}`,
    taskArn: task.taskArn,
    taskDefinitionArn: task.taskDefinitionArn,
    updatedAt: time.toISOString(),
    version: options.version ?? VERSION_OF[lastStatus],
  };
  if (stopping) {
    detail.stoppingAt = time.toISOString();
    detail.stoppedReason = options.stoppedReason ?? 'Scaling activity initiated by (deployment ecs-svc/test)';
    detail.stopCode = options.stopCode ?? 'ServiceSchedulerInitiated';
  }
  if (lastStatus === 'STOPPED') {
    detail.stoppedAt = time.toISOString();
    detail.executionStoppedAt = time.toISOString();
  }
  if (task.healthStatus !== undefined) {
    detail.healthStatus = task.healthStatus;
  }
  return {
    'version': '0',
    'id': randomUUID(),
    'detail-type': 'ECS Task State Change',
    'source': 'aws.ecs',
    'account': ACCOUNT,
    'time': time.toISOString(),
    'region': REGION,
    'resources': [task.taskArn],
    'detail': { ...detail, ...options.detail },
  };
}

/** The task reached RUNNING. */
export function running(task: TaskInfo, options: Partial<TaskEventOptions> = {}): Record<string, unknown> {
  return taskStateChange(task, { ...options, lastStatus: 'RUNNING' });
}

/**
 * A running task's health changed (`World.setHealth`): ECS sends a Task State Change with lastStatus and
 * desiredStatus RUNNING, a newer `detail.version` and the new `healthStatus`.
 */
export function healthChanged(task: TaskInfo, version: number, options: Partial<TaskEventOptions> = {}): Record<string, unknown> {
  return taskStateChange(task, { ...options, lastStatus: 'RUNNING', version });
}

/** ECS decided to stop the task (desired STOPPED while still RUNNING): the first event of a stop. */
export function stopRequested(task: TaskInfo, options: Partial<TaskEventOptions> = {}): Record<string, unknown> {
  return taskStateChange(task, { ...options, lastStatus: 'RUNNING', desiredStatus: 'STOPPED', version: options.version ?? VERSION_OF.RUNNING + 1 });
}

/** The task reached STOPPED. */
export function stopped(task: TaskInfo, options: Partial<TaskEventOptions> = {}): Record<string, unknown> {
  return taskStateChange(task, { ...options, lastStatus: 'STOPPED' });
}

/** Every event a stop produces, in order: DEACTIVATING, STOPPING, DEPROVISIONING, STOPPED. */
export function stopSequence(task: TaskInfo): Array<Record<string, unknown>> {
  return (['DEACTIVATING', 'STOPPING', 'DEPROVISIONING', 'STOPPED'] as const).map((s) => taskStateChange(task, { lastStatus: s }));
}

export interface SqsMessageInput {
  /** The message body as it is (e.g. malformed text); otherwise the event object, serialised. */
  readonly rawBody?: string;
  readonly event?: unknown;
  readonly receiveCount?: number;
}

export const QUEUE_ARN = `arn:aws:sqs:${REGION}:${ACCOUNT}:discovery-Queue4A7E3555-abcdefgh1234`;

/** An SQS batch event as the event source mapping delivers it. Items are events or {@link SqsMessageInput}s. */
export function sqsBatch(items: ReadonlyArray<Record<string, unknown> | SqsMessageInput>): { Records: Array<Record<string, unknown>> } {
  const now = Date.now();
  return {
    Records: items.map((item, i) => {
      const input: SqsMessageInput = 'rawBody' in item || 'event' in item ? item as SqsMessageInput : { event: item };
      const body = input.rawBody ?? JSON.stringify(input.event);
      const messageId = randomUUID();
      return {
        messageId,
        receiptHandle: Buffer.from(`${messageId}#${now}#${i}`).toString('base64'),
        body,
        attributes: {
          ApproximateReceiveCount: String(input.receiveCount ?? 1),
          AWSTraceHeader: `Root=1-${Math.floor(now / 1000).toString(16)}-${createHash('sha1').update(messageId).digest('hex').slice(0, 24)};Parent=${createHash('sha1').update(body).digest('hex').slice(0, 16)};Sampled=0`,
          SentTimestamp: String(now - 1500),
          SenderId: 'AIDAIELZ6ORKCIBPXWB6Q',
          ApproximateFirstReceiveTimestamp: String(now - 10),
        },
        messageAttributes: {},
        md5OfBody: createHash('md5').update(body, 'utf8').digest('hex'),
        eventSource: 'aws:sqs',
        eventSourceARN: QUEUE_ARN,
        awsRegion: REGION,
      };
    }),
  };
}

/** Splits events into SQS batches of at most `size` messages. */
export function sqsBatches(events: ReadonlyArray<Record<string, unknown>>, size: number): Array<ReturnType<typeof sqsBatch>> {
  const out: Array<ReturnType<typeof sqsBatch>> = [];
  for (let i = 0; i < events.length; i += size) {
    out.push(sqsBatch(events.slice(i, i + size)));
  }
  return out;
}
