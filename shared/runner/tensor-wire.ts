/**
 * Binary forward responses: the float32 values, little-endian, row-major, as the body; the shape and dtype in
 * headers (`x-edgebone-shape: 2,8,2304`, `x-edgebone-dtype: float32`). JSON would be ~3× larger and slow to
 * parse for [batch, sequence, hidden] outputs; a header keeps the body a plain typed array.
 */
import { HEADERS } from "./protocol.js";

export interface WireTensor {
  shape: number[];
  data: Float32Array;
}

const TENSOR_CONTENT_TYPE = "application/octet-stream";

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Headers and body of a float32 tensor response. */
export function encodeTensor(tensor: WireTensor): { headers: Record<string, string>; body: Uint8Array<ArrayBuffer> } {
  const count = tensor.shape.reduce((a, b) => a * b, 1);
  if (count !== tensor.data.length) throw new Error(`tensor of shape [${tensor.shape}] has ${tensor.data.length} values`);
  const data = littleEndian ? tensor.data : byteSwapped(tensor.data);
  const body = new Uint8Array(data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
  return {
    headers: { "content-type": TENSOR_CONTENT_TYPE, [HEADERS.shape]: tensor.shape.join(","), [HEADERS.dtype]: "float32" },
    body,
  };
}

/** Decodes a response body given its headers; throws one line if they disagree. */
export function decodeTensor(header: (name: string) => string | null, body: ArrayBuffer): WireTensor {
  const dtype = header(HEADERS.dtype);
  if (dtype !== "float32") throw new Error(`runner response has dtype "${dtype}", expected float32`);
  const shapeText = header(HEADERS.shape) ?? "";
  if (!/^\d+(,\d+)*$/.test(shapeText)) throw new Error(`runner response has no valid ${HEADERS.shape} header ("${shapeText}")`);
  const shape = shapeText.split(",").map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  if (body.byteLength !== count * 4) throw new Error(`runner response has ${body.byteLength} bytes, shape [${shape}] needs ${count * 4}`);
  const data = new Float32Array(body);
  return { shape, data: littleEndian ? data : byteSwapped(data) };
}

/** Big-endian hosts only: reinterprets each value's bytes in the other order (the same swap both ways). */
function byteSwapped(data: Float32Array): Float32Array {
  const out = new Float32Array(data.length);
  const src = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let i = 0; i < data.length; i++) out[i] = src.getFloat32(i * 4, true);
  return out;
}
