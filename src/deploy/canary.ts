import type { CanaryAnalysisSettings } from '../verify/canary-settings';

/**
 * `strategy: 'canary'` settings (pure, like `rolling.ts`); the steps run in
 * `strategies/canary.ts`, the analysis is `verify/canary-*.ts`.
 */
export interface CanarySettings {
  /** Ascending percentages of the requests, ending at 100, e.g. [5, 25, 50, 100]. */
  steps: number[];
  /** Seconds each step below 100 % is watched and analysed. */
  stepWatchSeconds: number;
  analysis: CanaryAnalysisSettings;
}
