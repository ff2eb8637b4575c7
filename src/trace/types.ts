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

/** How many requests to trace: the first `requests` by request id (ids 0..requests-1). */
export interface TraceSettings {
  requests: number;
}

/**
 * One Chrome Trace Event (the JSON Perfetto and chrome://tracing open): 'X' a
 * complete slice, 'M' metadata (process_name, thread_name, *_sort_index), 's'
 * and 'f' the start and finish of a flow arrow (`id`; the finish has `bp: 'e'`,
 * binding it to the slice that encloses it). `ts` and `dur` in µs.
 */
export interface TraceEvent {
  name: string;
  cat?: string;
  ph: 'X' | 'M' | 's' | 'f' | 't';
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
  id?: number;
  bp?: 'e';
  args?: Record<string, unknown>;
}

/** The trace of a run's sampled requests. */
export interface TraceSample {
  /** The request ids traced (of the first N asked for, those the run sent). */
  requests: number[];
  /** Chrome Trace Events, ready to write as `{ traceEvents: events }`. */
  events: TraceEvent[];
  /** Per traced request, its message sequence. */
  sequences: RequestSequence[];
}

/**
 * What a domain records, as it hands it over at the end of a run; `d` names
 * the domain: 'wire' (the harness's clients), 'monolith', or 'server#gen'. Times
 * are epoch µs (`performance.timeOrigin + performance.now()`, the same clock
 * in every thread).
 *
 *   slice  a stretch the domain's thread ran without yielding (a handler's
 *          synchronous part, a message posted or a reply taken in)
 *   span   a stretch of one request's life on its own track (the app serving
 *          it, a call waiting for its reply, the client waiting for the response)
 *   send   a message of the request sent (flow: unique over the run)
 *   recv   where that message was handled (a call) or taken in (a reply)
 */
export type TraceRecord =
  | { k: 'slice' | 'span'; d: string; req: number; name: string; ts: number; dur: number; cat: string }
  | { k: 'send'; d: string; req: number; flow: number; from: string; to: string; type: string; kind: 'call' | 'reply'; ts: number; line?: string }
  | { k: 'recv'; d: string; req: number; flow: number; ts: number };
