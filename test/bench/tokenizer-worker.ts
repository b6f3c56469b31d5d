/**
 * The workerd side of the tokenizer benchmark (bundled by tokenizer-bench.ts with esbuild, run by
 * miniflare): loads a canonical tokenizer.json, or its compiled tokenizer.bin checked against it, sent in the body, and
 * encodes texts, timing both inside the isolate (local workerd advances Date.now() during execution), and
 * converts a SentencePiece model. Imports only the runtime-agnostic core, as the edge worker will.
 */
import { Tokenizer, parseSentencePieceModel, sentencePieceTokenizerJson, type TokenizerFamily } from "../../shared/tokenizers/index.js";

let tokenizer: Tokenizer | undefined;

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    try {
      if (url.pathname === "/load") {
        // `?binary=n`: the body is a tokenizer.bin of n bytes, then the tokenizer.hf.json it is checked against.
        const bytes = new Uint8Array(await request.arrayBuffer());
        const binary = Number(url.searchParams.get("binary") ?? 0);
        const t0 = Date.now();
        tokenizer = binary ? Tokenizer.fromBinary(bytes.subarray(0, binary), { json: bytes.subarray(binary) }) : Tokenizer.fromJson(bytes);
        return Response.json({ loadMs: Date.now() - t0, vocabularySize: tokenizer.vocabularySize });
      }
      if (url.pathname === "/convert") {
        // A SentencePiece model → canonical tokenizer.json inside workerd (protobufjs static decoder, no eval).
        const family = url.searchParams.get("family") as TokenizerFamily;
        const bytes = new Uint8Array(await request.arrayBuffer());
        const t0 = Date.now();
        const json = sentencePieceTokenizerJson(parseSentencePieceModel(bytes, "model"), family, "model");
        const size = JSON.stringify(json).length;
        return Response.json({ convertMs: Date.now() - t0, jsonChars: size });
      }
      if (url.pathname === "/encode") {
        if (!tokenizer) return Response.json({ error: "load first" }, { status: 400 });
        const { texts, repeat } = (await request.json()) as { texts: string[]; repeat: number };
        let tokens = 0;
        const t0 = Date.now();
        for (let r = 0; r < repeat; r++) for (const t of texts) tokens += tokenizer.encode(t).ids.length;
        return Response.json({ ms: Date.now() - t0, tokens });
      }
      return new Response("not found", { status: 404 });
    } catch (e) {
      return Response.json({ error: (e as Error).message }, { status: 500 });
    }
  },
};
