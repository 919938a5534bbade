/** The last few routing decisions and rate-limit refusals, for the status page. Fixed size, no I/O. */
export interface RecentDecision {
  atMs: number;
  target: string;
  reason: string;
}

export interface RecentRejection {
  atMs: number;
  tier: string;
  limit: string;
}

export class Recent<T> {
  private readonly items: T[] = [];
  private next = 0;

  constructor(private readonly capacity: number) {}

  push(item: T): void {
    if (this.items.length < this.capacity) this.items.push(item);
    else this.items[this.next] = item;
    this.next = (this.next + 1) % this.capacity;
  }

  /** Newest first. */
  list(): T[] {
    const n = this.items.length;
    const out: T[] = [];
    for (let i = 1; i <= n; i++) out.push(this.items[(this.next - i + n) % n] as T);
    return out;
  }
}
