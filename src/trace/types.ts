/**
 * What a trace records, as data shared by the tracer (which records it in the
 * kernels), the Chrome trace export and the HTML report's message sequence.
 */

/** One step of one request's path across the servers: a message sent, and where it was handled. */
export interface MessageStep {
  /** Who sent it: a server, or 'wire' for the clients' side. */
  from: string;
  /** Who handled it. */
  to: string;
  /** The message type, e.g. 'DISK_READ', or 'reply' for a reply. */
  type: string;
  kind: 'call' | 'reply';
  /** Host-measured µs since the request arrived, when it was sent and when it was handled. */
  sentUs: number;
  handledUs: number;
}

/** The message sequence of one sampled request. */
export interface RequestSequence {
  reqId: number;
  request: string;
  steps: MessageStep[];
}
