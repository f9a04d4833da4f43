import type { DeployRequest } from './request';

/**
 * The settings a deploy finishes with, kept on its new server group
 * (`bluegreen:run-settings`) so that crash recovery finishes an interrupted
 * deploy with that deploy's choices, not the recovering run's.
 */
export interface RunSettings {
  keepPrevious: number;
  scaleDownDelaySeconds: number;
  drainTimeoutSeconds?: number;
}

/** The tag value for a request's finishing settings (JSON, well under the 256-character tag limit). */
export function encodeRunSettings(
  request: Pick<DeployRequest, 'keepPrevious' | 'scaleDownDelaySeconds' | 'drainTimeoutSeconds'>,
): string {
  const settings: RunSettings = {
    keepPrevious: request.keepPrevious,
    scaleDownDelaySeconds: request.scaleDownDelaySeconds,
    ...(request.drainTimeoutSeconds !== undefined ? { drainTimeoutSeconds: request.drainTimeoutSeconds } : {}),
  };
  return JSON.stringify(settings);
}

/** Reads the tag; a missing or unreadable tag (a group made before it existed) gives `fallback`. */
export function decodeRunSettings(value: string | undefined, fallback: RunSettings): RunSettings {
  if (!value) return fallback;
  try {
    const parsed = JSON.parse(value) as Partial<RunSettings>;
    const whole = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 0;
    const seconds = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n) && n >= 0;
    return {
      keepPrevious: whole(parsed.keepPrevious) ? parsed.keepPrevious : fallback.keepPrevious,
      scaleDownDelaySeconds: seconds(parsed.scaleDownDelaySeconds)
        ? parsed.scaleDownDelaySeconds
        : fallback.scaleDownDelaySeconds,
      ...(seconds(parsed.drainTimeoutSeconds)
        ? { drainTimeoutSeconds: parsed.drainTimeoutSeconds }
        : fallback.drainTimeoutSeconds !== undefined
          ? { drainTimeoutSeconds: fallback.drainTimeoutSeconds }
          : {}),
    };
  } catch {
    return fallback;
  }
}
