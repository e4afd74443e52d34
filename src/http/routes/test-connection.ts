// POST /test-connection {url} (SPEC §3.2): always 200 for a valid request; the answer says whether the URL was reachable.
import type { ConnectionTester } from '../../services/connection-test.ts';
import { isPlainObject, readJson } from '../body.ts';
import { sendJson } from '../respond.ts';
import type { Route } from '../router.ts';
import { requireHttpUrl } from '../validate.ts';
import { ValidationError } from '../../errors.ts';

export function testConnectionRoutes(test: ConnectionTester): Route[] {
  return [
    {
      method: 'POST',
      path: '/test-connection',
      auth: true,
      async handler({ req, res }) {
        const body = await readJson(req);
        if (!isPlainObject(body)) throw new ValidationError('Body must be a JSON object with a url');
        const url = requireHttpUrl(body['url'], 'url');
        sendJson(res, 200, await test(url));
      },
    },
  ];
}
