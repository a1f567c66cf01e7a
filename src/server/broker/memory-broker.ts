// In-process broker: the default on one node. Listeners run synchronously in publish order,
// so per-topic ordering is exactly the publish order.
import type { Broker, BrokerEvent } from './broker.js';

export class MemoryBroker implements Broker {
  readonly kind = 'memory' as const;
  private readonly topics = new Map<string, Set<(e: BrokerEvent) => void>>();

  publish(topic: string, event: BrokerEvent): void {
    const set = this.topics.get(topic);
    if (!set) return;
    for (const l of set) {
      try {
        l(event);
      } catch {
        // A listener's failure must not stop delivery to the others.
      }
    }
  }

  subscribe(topic: string, listener: (e: BrokerEvent) => void): () => void {
    let set = this.topics.get(topic);
    if (!set) this.topics.set(topic, (set = new Set()));
    set.add(listener);
    return () => {
      set!.delete(listener);
      if (set!.size === 0 && this.topics.get(topic) === set) this.topics.delete(topic);
    };
  }

  onGap(): void {
    // Nothing is ever lost in process: there is no gap to report.
  }

  async close(): Promise<void> {
    this.topics.clear();
  }
}
