import { writeFileSync } from "node:fs";
import { renderConfigReference } from "../../host/config/reference-markdown.js";

/** `npm run docs:config`: writes docs/configuration.md from the configuration schema. */
const target = new URL("../../docs/configuration.md", import.meta.url);
writeFileSync(target, renderConfigReference());
process.stdout.write(`wrote ${target.pathname}\n`);
