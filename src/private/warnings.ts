/**
 * The warnings this library gives at synthesis. Each has an id of its own, so a user can acknowledge one
 * with `Annotations.of(scope).acknowledgeWarning('cdk-ecs-public-discovery:<id>')`.
 */
import { Annotations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/** Prefix of the ids of this library's warnings (acknowledge them with `Annotations.acknowledgeWarning`). */
export const WARNING_PREFIX = 'cdk-ecs-public-discovery';

/** Adds the warning `cdk-ecs-public-discovery:<id>` to `scope`. */
export function addWarning(scope: IConstruct, id: string, message: string): void {
  Annotations.of(scope).addWarningV2(`${WARNING_PREFIX}:${id}`, message);
}
