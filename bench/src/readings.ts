/**
 * A sensor-like reading of `device`'s `n`-th point: 50 ± 10, spread deterministically. What the
 * ingest and analytics benches send (analytics adds bursts on top). A sawtooth (0…999 in every
 * ingest request, then back to 0) had analytics, which follows the same stream, flag about 6 % of
 * the points as anomalies and raise and resolve 58 000 alerts during one ingest run — an alert
 * storm competing with the writer for Postgres that says nothing about ingestion.
 */
export const reading = (device: number, n: number): number => 50 + ((n * 7919 + device) % 21) - 10;
