// Writes openapi.json at the repository root from the contract; test/unit/openapi-checked-in.test.ts fails when the
// checked-in file is stale.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildOpenApiDocument } from "../src/openapi/openapi-document.js";
import { openApiJson } from "../src/openapi/openapi-json.js";
import { servedServices } from "../src/openapi/served-services.js";

const target = join(import.meta.dirname, "..", "openapi.json");
writeFileSync(target, openApiJson(buildOpenApiDocument(servedServices)));
console.log(`wrote ${target}`);
