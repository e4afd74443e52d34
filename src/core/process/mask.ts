// Provider URLs carry credentials: whatever a child process prints about them is masked before it is logged or answered.

const URL_RUN = /\b[a-z][a-z0-9+.-]*:\/\/[^\s'"<>]+/gi;

/** Every `scheme://…` run of non-space characters replaced. */
export function maskUrls(text: string, replacement = '<url>'): string {
  return text.replace(URL_RUN, replacement);
}
