/**
 * The V8 heap of the worker's isolate under `wrangler dev`, read through its inspector (Chrome DevTools
 * Protocol): a heap snapshot (V8 collects garbage before taking one; workerd does not answer
 * `HeapProfiler.collectGarbage`), then `Runtime.getHeapUsage`. workerd reports no per-isolate memory
 * otherwise, and its process RSS mixes the runtime, local D1/R2 and V8's retained pages. Needs a global
 * WebSocket (Node 20: `--experimental-websocket`).
 */
interface Target {
  title?: string;
  url?: string;
  webSocketDebuggerUrl?: string;
}

/** JS heap used and reserved (bytes) of the worker's isolate, after a full GC. */
export async function isolateHeap(inspectorPort: number): Promise<{ used: number; total: number }> {
  const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json()) as Target[];
  const target = targets.find((t) => t.webSocketDebuggerUrl);
  if (!target) throw new Error(`no inspectable isolate on port ${inspectorPort}: ${JSON.stringify(targets)}`);
  // wrangler's inspector proxy wants a local Origin (undici's WebSocket takes headers as a non-standard option)
  const ws = new WebSocket(target.webSocketDebuggerUrl!, { headers: { origin: "http://localhost" } } as unknown as string[]);
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error(`cannot connect to ${target.webSocketDebuggerUrl}`));
  });
  let next = 0;
  const pending = new Map<number, (result: Record<string, unknown>) => void>();
  ws.onmessage = (m) => {
    const text = String(m.data);
    if (text.includes('"HeapProfiler.addHeapSnapshotChunk"')) return; // the snapshot itself is not needed
    const msg = JSON.parse(text) as { id?: number; result?: Record<string, unknown>; error?: { message: string } };
    if (msg.id !== undefined) pending.get(msg.id)?.(msg.error ? { error: msg.error.message } : (msg.result ?? {}));
  };
  const call = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const id = ++next;
      const timer = setTimeout(() => reject(new Error(`${method}: no answer`)), 120_000);
      pending.set(id, (r) => {
        clearTimeout(timer);
        if (r.error) reject(new Error(`${method}: ${r.error}`));
        else resolve(r);
      });
      ws.send(JSON.stringify({ id, method, params }));
    });
  try {
    await call("HeapProfiler.takeHeapSnapshot", { reportProgress: false });
    const usage = await call("Runtime.getHeapUsage");
    return { used: Number(usage.usedSize), total: Number(usage.totalSize) };
  } finally {
    ws.close();
  }
}
