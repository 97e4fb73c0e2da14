// A counter's values by one label, as a scrape of /metrics shows them: what the limits' tests read back.
import parsePrometheusTextFormat from "parse-prometheus-text-format";

export async function counterByLabel(metricsUrl: string, name: string, label: string): Promise<Record<string, number>> {
  const families = parsePrometheusTextFormat(await (await fetch(metricsUrl)).text());
  const family = families.find((candidate) => candidate.name === name);
  return Object.fromEntries((family?.metrics ?? []).map((metric) => [metric.labels?.[label] ?? "", Number(metric.value)]));
}
