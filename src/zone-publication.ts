import { aws_route53 as route53 } from 'aws-cdk-lib';

/**
 * Which of a task's IPv4 addresses the A records of a publication hold.
 */
export enum RecordAddress {
  /**
   * The task's public IPv4 address (the service must assign public IPs when it publishes IPv4).
   * What the construct's own hosted zone always receives.
   */
  PUBLIC = 'public',

  /**
   * The private IPv4 address of the task's network interface, for a private hosted zone answering inside
   * its VPCs (split-horizon DNS: the same name resolves to the public address outside). No public IP is needed.
   */
  PRIVATE = 'private',
}

/**
 * One more hosted zone a service is published in, given to `ServiceOptions.additionalZones`.
 */
export interface ZonePublication {
  /**
   * The hosted zone. Its name must be known at synthesis, as for the construct's `hostedZone`.
   */
  readonly hostedZone: route53.IHostedZone;

  /**
   * The DNS name in this zone, read relative to this zone as `ServiceOptions.name` is to the construct's
   * zone: a name without a trailing dot gets this zone's name appended; one ending with a dot must be this
   * zone's apex or a name inside it.
   *
   * @default - the service's `name`, relative to this zone (an absolute `name` must lie inside this zone)
   */
  readonly name?: string;

  /**
   * Which IPv4 address the A records hold. AAAA records (a dual-stack or IPv6-only service) hold the
   * network interface's IPv6 address either way.
   *
   * @default - RecordAddress.PRIVATE when the zone is a `route53.PrivateHostedZone` or its CloudFormation
   * resource is associated with VPCs at synthesis (a `route53.HostedZone` given VPCs with `addVpc` after
   * `addService` counts), RecordAddress.PUBLIC otherwise; an imported zone, whose kind is not known, gets
   * RecordAddress.PUBLIC with a warning that giving `address` silences
   */
  readonly address?: RecordAddress;
}
