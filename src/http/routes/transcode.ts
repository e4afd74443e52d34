// Transcoding management routes (SPEC §13, research §3): POST /transcode, GET /transcode/profiles and
// GET /validate-cookies-file. Validation here, everything else in services/transcode.
import { BUILTIN_PROFILES, DEFAULT_VARIABLES } from '../../services/transcode/profiles.ts';
import { parseTranscodeRequest } from '../../services/transcode/request.ts';
import type { TranscodeService } from '../../services/transcode/service.ts';
import { readJson } from '../body.ts';
import { sendJson } from '../respond.ts';
import type { Route } from '../router.ts';
import { parseStreamInput } from '../validate.ts';

export function transcodeRoutes(service: TranscodeService): Route[] {
  return [
    {
      method: 'POST',
      path: '/transcode',
      auth: true,
      async handler({ req, res }) {
        const request = parseTranscodeRequest(await readJson(req), parseStreamInput);
        sendJson(res, 200, await service.create(request));
      },
    },
    {
      method: 'GET',
      path: '/transcode/profiles',
      auth: true,
      handler({ res }) {
        sendJson(res, 200, {
          profiles: BUILTIN_PROFILES.map((p) => ({ name: p.name, description: p.description, parameters: p.parameters })),
          // No hardware detection: the built-in profiles use CPU encoders.
          hardware_acceleration: { available: false, type: 'cpu' },
          default_variables: DEFAULT_VARIABLES,
        });
      },
    },
    {
      method: 'GET',
      path: '/validate-cookies-file',
      auth: true,
      async handler({ res, query }) {
        const check = await service.cookiesCheck(query.get('path'));
        // Never the file's content, nor its resolved path: only whether it is usable and why not.
        sendJson(res, 200, { valid: check.valid, message: check.message });
      },
    },
  ];
}
