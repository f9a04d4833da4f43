/**
 * Which credentials signed the calls the gateway saw, per access key id,
 * region and action (`GET /_sandbox/credentials`): a test checks that a
 * region's calls carry the credentials of an assumed role. Only the access
 * key id is kept, never a secret or session token.
 */

/** One line of {@link CallCredentials.snapshot}. */
export interface CredentialUse {
  accessKeyId: string;
  region: string;
  /** `service:Action`. */
  call: string;
  count: number;
}

/** Most distinct (key, region, action) lines kept; past it, new lines are counted in `dropped`. */
const MAX_LINES = 10_000;

export class CallCredentials {
  private readonly uses = new Map<string, CredentialUse>();
  private dropped = 0;

  record(accessKeyId: string, region: string, service: string, action: string): void {
    const call = `${service}:${action}`;
    const key = `${accessKeyId} ${region} ${call}`;
    const use = this.uses.get(key);
    if (use) use.count += 1;
    else if (this.uses.size < MAX_LINES) this.uses.set(key, { accessKeyId, region, call, count: 1 });
    else this.dropped += 1;
  }

  /** Every line, sorted by key id, region, call. */
  snapshot(): { uses: CredentialUse[]; dropped: number } {
    const uses = [...this.uses.values()]
      .map((u) => ({ ...u }))
      .sort((a, b) => `${a.accessKeyId} ${a.region} ${a.call}`.localeCompare(`${b.accessKeyId} ${b.region} ${b.call}`));
    return { uses, dropped: this.dropped };
  }

  reset(): void {
    this.uses.clear();
    this.dropped = 0;
  }
}
