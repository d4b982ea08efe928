/**
 * The tags a registered service carries (`public-discovery:name`, `public-discovery:ttl`), which its tasks
 * must inherit so that the handler can check each task against its registration.
 */
import { Token, Tokenization, aws_ecs as ecs } from 'aws-cdk-lib';
import { addWarning } from './warnings';
import { TAG_NAME, TAG_TTL } from '../shared/contract';

/** What the tags say: the registration of the service. */
export interface ServiceTagValues {
  /** The name given to `addService`. */
  readonly name: string;
  /** The TTL in seconds. */
  readonly ttl: number;
  /** Whether a TTL was given, and so is tagged. */
  readonly ttlTagged: boolean;
}

/**
 * Tags the service resource and makes its tasks inherit the tags, or warns when they cannot (the service
 * propagates tags from elsewhere).
 */
export function tagService(service: ecs.BaseService, cfnService: ecs.CfnService, values: ServiceTagValues, where: string): void {
  // Tags go on the ECS service resource only, not on its other children (security group, ...).
  // A high priority keeps them authoritative over Tags.of(...).add() aspects applied above.
  cfnService.tags.setTag(TAG_NAME, values.name, 1000);
  if (values.ttlTagged) {
    cfnService.tags.setTag(TAG_TTL, Tokenization.stringifyNumber(values.ttl), 1000);
  }
  propagateTags(service, cfnService, where);
}

function propagateTags(service: ecs.BaseService, cfnService: ecs.CfnService, where: string): void {
  const propagate = cfnService.propagateTags;
  if (propagate === undefined) {
    cfnService.propagateTags = ecs.PropagatedTagSource.SERVICE;
  } else if (!Token.isUnresolved(propagate) && propagate !== ecs.PropagatedTagSource.SERVICE) {
    addWarning(service, 'propagateTags',
      `The ${where} propagates tags from ${propagate}, so its tasks will not carry the tags ${TAG_NAME}/${TAG_TTL} `
      + 'that EcsPublicDiscovery puts on the service. The registration still publishes the service\'s tasks (the '
      + 'handler falls back to it and logs a warning per task), but they cannot be checked against the tags. '
      + 'To fix it, set propagateTags: ecs.PropagatedTagSource.SERVICE on the service.');
  }
}
