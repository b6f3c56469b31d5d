import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineConfig } from "vitest/config";

/** Test-only bindings of the `workers` project (on top of wrangler.toml's vars, D1 `DB` and R2 `BUCKET`). */
export const WORKER_TEST_BINDINGS = {
  ADMIN_TOKEN: "test-admin-token",
  ADAPTER_MAX_BYTES: String(256 * 1024),
};

/**
 * The hubs the Node entry point downloads from point at a closed port, and their caches at an empty folder:
 * a test that would reach huggingface.co or kaggle.com (or read the user's caches) fails instead. Hub tests
 * serve their own fake hubs and set these per test.
 */
const OFFLINE_HUBS = {
  HF_ENDPOINT: "http://127.0.0.1:9",
  KAGGLE_API_ENDPOINT: "http://127.0.0.1:9",
  HF_HOME: join(tmpdir(), "edgebone-tests-no-hf-home"),
  KAGGLEHUB_CACHE: join(tmpdir(), "edgebone-tests-no-kagglehub"),
  KAGGLE_CONFIG_DIR: join(tmpdir(), "edgebone-tests-no-kaggle-config"),
  HF_TOKEN: "",
  HUGGING_FACE_HUB_TOKEN: "",
  HF_HUB_OFFLINE: "",
  KAGGLE_USERNAME: "",
  KAGGLE_KEY: "",
};

export default defineConfig(async () => ({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Each file creates onnxruntime sessions; two workers match CI's two cores.
    maxWorkers: 2,
    reporters: ["default", "./test/helpers/summary-reporter.ts"],
    projects: [
      {
        extends: true,
        test: { name: "node", include: ["test/**/*.test.ts"], exclude: ["test/workers/**", "**/node_modules/**"], env: OFFLINE_HUBS },
      },
      {
        // The worker (wrangler.toml's main, workers/index.ts) in workerd through @cloudflare/vitest-pool-workers:
        // tests call it with exports.default.fetch and see its real D1 and R2 bindings (fresh per test file).
        extends: true,
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: { bindings: { ...WORKER_TEST_BINDINGS, TEST_MIGRATIONS: await readD1Migrations("./migrations") } },
          }),
        ],
        test: {
          name: "workers",
          include: ["test/workers/**/*.test.ts"],
          globalSetup: ["./test/workers/global-setup.ts"],
          setupFiles: ["./test/workers/setup.ts"],
        },
      },
    ],
  },
}));
