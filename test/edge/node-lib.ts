export * from "../../shared/node/index.js";

