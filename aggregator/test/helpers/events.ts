/** Reading the aggregator's Server-Sent Events stream (`GET /api/v1/events`) in a test. */

export interface EventStream {
  status: number;
  /** The response's content-type. */
  contentType: string | null;
  /** The parsed `data:` events so far (the array fills while the stream is read). */
  events: any[];
  /** True once `until` held or the stream ended (a non-200 answer is not read and counts as ended). */
  readonly ended: boolean;
  /** Aborts the request and waits for the reader to finish. */
  stop(): Promise<void>;
}

/** Reads an event stream until `until` holds or the stream ends; `token` goes out as a Bearer header. */
export async function readEvents(url: string, until: (events: any[]) => boolean, options: { token?: string } = {}): Promise<EventStream> {
  const controller = new AbortController();
  const res = await fetch(url, { signal: controller.signal, headers: options.token ? { authorization: `Bearer ${options.token}` } : {} });
  const contentType = res.headers.get('content-type');
  const events: any[] = [];
  let ended = false;
  if (res.status !== 200) {
    await res.text();
    return { status: res.status, contentType, events, ended: true, stop: async () => undefined };
  }
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const pump = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          for (const line of block.split('\n')) if (line.startsWith('data: ')) events.push(JSON.parse(line.slice(6)));
        }
        if (until(events)) break;
      }
      ended = true;
    } catch {
      // aborted
    }
  })();
  return {
    status: 200,
    contentType,
    events,
    get ended() {
      return ended;
    },
    async stop() {
      controller.abort();
      await pump;
    },
  };
}
