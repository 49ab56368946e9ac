/** The generated files of the client, absolute path → content. */
export function generate(): Map<string, string>;
