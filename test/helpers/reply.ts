/** A worker response read for assertions (shared by the Miniflare tests in Node and the workerd tests). */
export type Json = Record<string, any>;

export interface Reply {
  status: number;
  json: Json;
  headers: Headers;
  bytes?: ArrayBuffer;
}

/** JSON bodies parsed (`{raw}` when not JSON), float32 bodies kept as bytes. */
export async function readReply(res: Response): Promise<Reply> {
  if ((res.headers.get("content-type") ?? "").includes("application/octet-stream")) {
    return { status: res.status, json: {}, headers: res.headers, bytes: await res.arrayBuffer() };
  }
  const text = await res.text();
  let json: Json;
  try {
    json = JSON.parse(text);
  } catch {
    json = { raw: text };
  }
  return { status: res.status, json, headers: res.headers };
}
