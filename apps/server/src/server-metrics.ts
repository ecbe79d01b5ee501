import { monitorEventLoopDelay } from "node:perf_hooks";
import { Counter, Gauge, Histogram, LATENCY_BUCKETS_S, renderMetrics, SnapshotHistogram } from "./metrics.ts";
import type { StoreStats } from "./store/store.ts";

/** What a connection reports as it works; the server's /metrics renders it. */
export type ConnectionMetrics = {
  /** A request was answered (error: its code) after `seconds` since its frame arrived. */
  request(type: string, seconds: number, error: string | undefined): void;
  /** A queue entry was pushed to a device. */
  delivered(): void;
};

/** Live figures read at scrape time. */
export type ServerGauges = {
  sockets(): number;
  devices(): number;
  unackedDeliveries(): number;
  /** Web Push requests since start: delivered to the push service, subscription gone, failed. */
  pushes(): { sent: number; gone: number; failed: number };
};

/**
 * The server's Prometheus metrics. Counting is a few map updates per request on the main thread; the
 * store's figures (queue depth, commit latency) come from the store thread when scraped.
 */
export class ServerMetrics implements ConnectionMetrics {
  readonly #requests = new Histogram(
    "sori_request_duration_seconds",
    "Time from a WebSocket request frame arriving to its answer being written, by request type",
    LATENCY_BUCKETS_S,
    "type",
  );
  readonly #errors = new Counter(
    "sori_request_errors_total",
    "Requests answered with an error, by code",
    "code",
  );
  readonly #messagesIn = new Counter(
    "sori_messages_in_total",
    "Messages accepted from senders (send requests)",
  );
  readonly #messagesOut = new Counter(
    "sori_messages_out_total",
    "Queue entries pushed to devices (deliver frames)",
  );
  readonly #connectionsOpened = new Counter(
    "sori_connections_opened_total",
    "WebSocket connections accepted",
  );
  readonly #loopDelay = monitorEventLoopDelay({ resolution: 10 });
  readonly #gauges: ServerGauges;
  readonly #startedAt = Date.now();

  constructor(gauges: ServerGauges) {
    this.#gauges = gauges;
    this.#loopDelay.enable();
  }

  request(type: string, seconds: number, error: string | undefined): void {
    this.#requests.observe(seconds, type);
    if (error !== undefined) this.#errors.inc(1, error);
    else if (type === "send") this.#messagesIn.inc();
  }

  delivered(): void {
    this.#messagesOut.inc();
  }

  connectionOpened(): void {
    this.#connectionsOpened.inc();
  }

  stop(): void {
    this.#loopDelay.disable();
  }

  /** The exposition; `store` is undefined when the store did not answer (reported as sori_store_up 0). */
  render(store: StoreStats | undefined): string {
    const mem = process.memoryUsage();
    const cpu = process.cpuUsage();
    const loopP99 = this.#loopDelay.percentile(99) / 1e9;
    this.#loopDelay.reset();
    const gauges = this.#gauges;
    return renderMetrics([
      new Gauge("sori_connections", "Open WebSocket connections (authenticated or not)", () =>
        gauges.sockets(),
      ),
      new Gauge("sori_devices_connected", "Authenticated device connections", () => gauges.devices()),
      this.#connectionsOpened,
      this.#messagesIn,
      this.#messagesOut,
      this.#requests,
      this.#errors,
      new Gauge(
        "sori_deliveries_unacked",
        "Deliveries pushed to connected devices and not yet acknowledged",
        () => gauges.unackedDeliveries(),
      ),
      new Gauge(
        "sori_push_sent_total",
        "Wake-ups a push service took (Web Push)",
        () => gauges.pushes().sent,
      ),
      new Gauge(
        "sori_push_gone_total",
        "Wake-ups answered 404/410: the subscription was dropped",
        () => gauges.pushes().gone,
      ),
      new Gauge(
        "sori_push_failed_total",
        "Wake-ups refused or given up after retries",
        () => gauges.pushes().failed,
      ),
      new Gauge("sori_store_up", "1 if the store answered this scrape", () => (store ? 1 : 0)),
      new Gauge("sori_store_writable", "0 once a failed fsync stopped all writes (restart needed)", () =>
        store ? Number(store.writable) : Number.NaN,
      ),
      new Gauge("sori_queue_entries", "Queued deliveries not yet acknowledged, all devices", () =>
        store ? store.queuedEntries : Number.NaN,
      ),
      new Gauge("sori_store_pending_writes", "Writes waiting for the next transaction", () =>
        store ? store.pendingWrites : Number.NaN,
      ),
      new Gauge("sori_store_writes_committed", "Writes committed since start", () =>
        store ? store.writesCommitted : Number.NaN,
      ),
      new Gauge("sori_store_writes_failed", "Writes rejected because their transaction failed", () =>
        store ? store.writesFailed : Number.NaN,
      ),
      new SnapshotHistogram(
        "sori_store_commit_duration_seconds",
        "Duration of one batch transaction, BEGIN until durable (COMMIT and, with durability full, the WAL fsync)",
        () => store?.commitSeconds,
      ),
      new Gauge("process_resident_memory_bytes", "Resident set size", () => mem.rss),
      new Gauge("nodejs_heap_used_bytes", "V8 heap in use", () => mem.heapUsed),
      new Gauge(
        "process_cpu_seconds_total",
        "User and system CPU time, all threads",
        () => (cpu.user + cpu.system) / 1e6,
      ),
      new Gauge(
        "nodejs_eventloop_delay_p99_seconds",
        "Main event-loop delay p99 since the previous scrape",
        () => (Number.isFinite(loopP99) ? loopP99 : 0),
      ),
      new Gauge("process_start_time_seconds", "Start time, Unix seconds", () =>
        Math.floor(this.#startedAt / 1000),
      ),
    ]);
  }
}
