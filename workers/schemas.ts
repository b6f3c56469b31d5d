/** Request bodies (zod): validation in the routes and the OpenAPI document (workers/openapi.ts). */
import { z } from "zod";

export const tenantBody = z.object({ name: z.string().min(1).max(200) }).strict();
export const keyBody = z.object({ name: z.string().min(1).max(200).optional() }).strict();
/** A tenant's own limits (workers/quota.ts); absent or null: the deployment's default. PUT replaces both. */
export const limitsBody = z
  .object({
    requests_per_second: z.number().int().min(1).max(1_000_000).nullable().optional(),
    tokens_per_day: z.number().int().min(1).max(1e15).nullable().optional(),
  })
  .strict();
const intMatrix = z.array(z.array(z.number().int())).min(1);
export const forwardBody = z
  .object({
    token_ids: intMatrix.optional(),
    padding_mask: intMatrix.optional(),
    /** Texts instead of ids: tokenized with the preset's tokenizer (the response then carries the ids and mask). */
    inputs: z.union([z.string(), z.array(z.string()).min(1)]).optional(),
    /** With `inputs`: cut texts longer than the model's sequence length (default: 422 naming the length). */
    truncate: z.boolean().optional(),
    adapter: z.string().optional(),
  })
  .strict()
  .refine((b) => (b.token_ids === undefined) !== (b.inputs === undefined), { message: "send either token_ids (with padding_mask) or inputs (texts)", path: ["token_ids"] })
  .refine((b) => b.inputs === undefined || b.padding_mask === undefined, { message: "padding_mask goes with token_ids, not with inputs", path: ["padding_mask"] });

export const embeddingsBody = z
  .object({
    model: z.string().min(1),
    input: z.union([z.string(), z.array(z.string()).min(1), z.array(z.number().int()).min(1), z.array(z.array(z.number().int())).min(1)]),
    encoding_format: z.enum(["float", "base64"]).optional(),
    dimensions: z.number().int().positive().optional(),
    user: z.string().optional(),
    /** Edgebone extension: cut long texts at the sequence length instead of chunking and pooling them. */
    truncate: z.boolean().optional(),
    /** Edgebone extension (TEI's name): one of the preset's prompts, prepended to each text. */
    prompt_name: z.string().min(1).optional(),
  })
  .strict();

const teiInputs = z.union([z.string(), z.array(z.string()).min(1)]);
export const teiModel = z.string().min(1).optional();
export const teiEmbedBody = z
  .object({ inputs: teiInputs, normalize: z.boolean().optional(), truncate: z.boolean().optional(), dimensions: z.number().int().positive().optional(), prompt_name: z.string().min(1).optional(), model: teiModel })
  .passthrough();
export const teiEmbedAllBody = z.object({ inputs: teiInputs, truncate: z.boolean().optional(), model: teiModel }).passthrough();
export const teiTokenizeBody = z.object({ inputs: teiInputs, add_special_tokens: z.boolean().optional(), model: teiModel }).passthrough();
export const teiDecodeBody = z
  .object({ ids: z.union([z.array(z.number().int().nonnegative()), z.array(z.array(z.number().int().nonnegative()))]), skip_special_tokens: z.boolean().optional(), model: teiModel })
  .passthrough();

