/** A fixed-size series of speed samples (one a second) for the graphs. */
export interface SpeedSample { at: number; down: number; up: number }

export const HISTORY_SECONDS = 300

export function pushSample (series: SpeedSample[], sample: SpeedSample): SpeedSample[] {
  const next = series.length >= HISTORY_SECONDS ? series.slice(series.length - HISTORY_SECONDS + 1) : series.slice()
  next.push(sample)
  return next
}
