export { EcsPublicDiscovery, IpAddressType, TaskHealthCheckType } from './ecs-public-discovery';
export type { EcsPublicDiscoveryProps, ServiceOptions, TaskHealthCheckOptions } from './ecs-public-discovery';
export { RecordAddress } from './zone-publication';
export type { ZonePublication } from './zone-publication';
export { SrvProtocol } from './srv-record';
export type { SrvRecordOptions } from './srv-record';
