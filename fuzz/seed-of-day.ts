/** The rotating fuzz seed: today's UTC date as YYYYMMDD, so a CI failure names a seed anyone can replay. */
export function dateSeed(d: Date = new Date()): number {
  return d.getUTCFullYear() * 10000 + (d.getUTCMonth() + 1) * 100 + d.getUTCDate();
}
