// Prints the configuration table for README.md from the one place settings are declared (src/config.ts).
import { settings } from "../src/config.js";

const show = (value: string | undefined): string => (value ? `\`${value}\`` : "–");

console.log("| flag | environment | default | meaning |\n|---|---|---|---|");
for (const setting of Object.values(settings)) {
  const fallback = "default" in setting ? setting.default : undefined;
  console.log(`| \`--${setting.flag}\` | \`${setting.env}\` | ${show(fallback)} | ${setting.description} |`);
}
