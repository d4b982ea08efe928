/**
 * The public options of the SRV records a service may publish (`ServiceOptions.srv`).
 */

/**
 * The transport protocol label of an SRV record name (`_<service>._<protocol>.<name>`, RFC 2782).
 */
export enum SrvProtocol {
  /** `_tcp`: the service runs over TCP (Minecraft Java Edition, XMPP, LDAP, SIP over TCP...). */
  TCP = 'tcp',
  /** `_udp`: the service runs over UDP (SIP over UDP, Kerberos...). */
  UDP = 'udp',
  /** `_tls`: the service runs over TLS (e.g. SIP over TLS, as some clients look it up). */
  TLS = 'tls',
  /** `_sctp`: the service runs over SCTP (SIP over SCTP, RFC 3263). */
  SCTP = 'sctp',
}

/**
 * SRV records of a service: one record set at `_<service>._<protocol>.<name>` with one value per running task,
 * `<priority> <weight> <port> <task id>.<name>.`, pointing at the task's own host name (an SRV target must be
 * a host name, never an address).
 */
export interface SrvRecordOptions {
  /**
   * The service label, without its leading underscore, e.g. `minecraft` for `_minecraft._tcp.<name>`.
   *
   * It must be a literal DNS label: letters, digits and `-`, at most 63 characters, not starting or ending
   * with `-`.
   */
  readonly service: string;

  /**
   * The protocol label.
   *
   * @default SrvProtocol.TCP
   */
  readonly protocol?: SrvProtocol;

  /**
   * The port clients connect to, 1..65535.
   *
   * @default - the container port of the first port mapping of the task definition's default container
   */
  readonly port?: number;

  /**
   * The priority of every task's value, 0..65535 (clients try lower values first).
   *
   * @default 0
   */
  readonly priority?: number;

  /**
   * The weight of every task's value, 0..65535 (clients pick among values of one priority in proportion to it).
   *
   * @default 1 - every task gets an equal share
   */
  readonly weight?: number;
}
