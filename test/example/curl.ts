/** A curl command as the examples print it, turned into what fetch needs (the examples' tests replay them). */
export interface Curl {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | undefined;
}

/** Splits a command line as a POSIX shell does for the quoting the banners use (single quotes). */
function shellWords(command: string): string[] {
  return [...command.matchAll(/'([^']*)'|(\S+)/g)].map((match) => match[1] ?? match[2] ?? '');
}

export function parseCurl(command: string): Curl {
  const words = shellWords(command);
  if (words[0] !== 'curl') throw new Error(`not a curl command: ${command}`);
  const curl: Curl = { method: 'GET', url: '', headers: {}, body: undefined };
  for (let i = 1; i < words.length; i += 1) {
    const word = words[i] ?? '';
    if (word === '-X') curl.method = words[++i] ?? '';
    else if (word === '-H') {
      const [name = '', ...value] = (words[++i] ?? '').split(':');
      curl.headers[name.trim()] = value.join(':').trim();
    } else if (word === '-d') curl.body = words[++i];
    else if (word.startsWith('http')) curl.url = word;
    else if (word !== '-si' && word !== '-s') throw new Error(`unexpected curl argument ${word} in: ${command}`);
  }
  if (curl.body !== undefined && curl.method === 'GET') curl.method = 'POST';
  return curl;
}
