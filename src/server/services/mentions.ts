// Mention syntax: @username (case-insensitive), @channel / @all (every member), @here (members online).
// A mention must start the text or follow a character that is not a word char, '@' or '.',
// so e-mail addresses (ann@example.com) are not mentions.
const MENTION = /(?<![\w@.])@([A-Za-z0-9][A-Za-z0-9._-]{0,31})/g;

export interface ParsedMentions {
  usernames: string[];
  channel: boolean;
  here: boolean;
}

export function parseMentions(text: string): ParsedMentions {
  const names = new Set<string>();
  let channel = false;
  let here = false;
  for (const m of text.matchAll(MENTION)) {
    // A trailing '.' or '-' is punctuation ("thanks @ann."), not part of the name.
    const name = m[1].replace(/[._-]+$/, '').toLowerCase();
    if (name === 'channel' || name === 'all') channel = true;
    else if (name === 'here') here = true;
    else if (name.length >= 2) names.add(name);
    if (names.size >= 50) break;
  }
  return { usernames: [...names], channel, here };
}
