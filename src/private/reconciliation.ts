/**
 * The reconciliation schedule: an EventBridge rule that periodically invokes the discovery function with
 * `{"action": "reconcile"}`, so the records are repaired after any drift (lost events, manual edits, failed
 * changes).
 */
import { Duration, aws_events as events, aws_events_targets as targets, aws_lambda as lambda } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { RECONCILE_ACTION } from '../shared/contract';

/**
 * Creates the rule `ReconciliationSchedule` in `scope`.
 *
 * @param interval how often it runs (whole minutes, validated with the props); default 5 minutes
 */
export function createReconciliationSchedule(scope: Construct, handler: lambda.IFunction, interval?: Duration): events.Rule {
  return new events.Rule(scope, 'ReconciliationSchedule', {
    description: 'Periodically reconciles the EcsPublicDiscovery records with the running tasks',
    schedule: events.Schedule.rate(interval ?? Duration.minutes(5)),
    targets: [new targets.LambdaFunction(handler, {
      event: events.RuleTargetInput.fromObject({ action: RECONCILE_ACTION }),
    })],
  });
}
