// What a notification says after the actor's name, in the inbox and in a browser notification.
import type { Notification } from '../../src/protocol/index.js';

export function notificationPhrase(kind: Notification['kind']): string {
  return kind === 'mention' ? 'mentioned you' : kind === 'reply' ? 'replied to your thread' : 'sent you a message';
}
