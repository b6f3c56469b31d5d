/** Request bodies (zod): validation in the routes and the OpenAPI document (workers/openapi.ts). */
import { z } from "zod";

export const tenantBody = z.object({ name: z.string().min(1).max(200) }).strict();
export const keyBody = z.object({ name: z.string().min(1).max(200).optional() }).strict();
export const intMatrix = z.array(z.array(z.number().int())).min(1);
export const forwardBody = z
  .object({
    token_ids: intMatrix,
    padding_mask: intMatrix.optional(),
    adapter: z.string().optional(),
  })
  .strict();

export const embeddingsBody = z
  .object({
    model: z.string().min(1),
    input: z.union([z.string(), z.array(z.string()).min(1), z.array(z.number().int()).min(1), z.array(z.array(z.number().int())).min(1)]),
    encoding_format: z.enum(["float", "base64"]).optional(),
    dimensions: z.number().int().positive().optional(),
    user: z.string().optional(),
    /** Edgebone extension: cut long texts at the sequence length instead of chunking and pooling them. */
    truncate: z.boolean().optional(),
  })
  .strict();

export const teiInputs = z.union([z.string(), z.array(z.string()).min(1)]);
export const teiModel = z.string().min(1).optional();
export const teiEmbedBody = z
  .object({ inputs: teiInputs, normalize: z.boolean().optional(), truncate: z.boolean().optional(), dimensions: z.number().int().positive().optional(), model: teiModel })
  .passthrough();
export const teiEmbedAllBody = z.object({ inputs: teiInputs, truncate: z.boolean().optional(), model: teiModel }).passthrough();
export const teiTokenizeBody = z.object({ inputs: teiInputs, add_special_tokens: z.boolean().optional(), model: teiModel }).passthrough();
export const teiDecodeBody = z
  .object({ ids: z.union([z.array(z.number().int().nonnegative()), z.array(z.array(z.number().int().nonnegative()))]), skip_special_tokens: z.boolean().optional(), model: teiModel })
  .passthrough();

