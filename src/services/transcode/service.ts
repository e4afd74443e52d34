// `POST /transcode` (research §3.1, SPEC §13): a request becomes a stream whose id hashes its rendered arguments,
// with the editor's pooling metadata, and a spec saying how to run its process. No process starts here.
import type { TranscodeConfig } from '../../config-transcode.ts';
import type { StreamRecord } from '../../core/registry.ts';
import { BadRequestError, ProgramNotFoundError } from '../../errors.ts';
import type { StreamService } from '../streams.ts';
import { checkCookiesFile, parseNetscapeCookies, writeCookiesTemp } from './cookies.ts';
import { buildFfmpegArgv, checkTemplateArgs } from './ffmpeg-argv.ts';
import { detectOutput, type OutputInfo } from './output.ts';
import type { ProgramName } from './process-start.ts';
import { BUILTIN_PROFILES, builtinNames, findBuiltin } from './profiles.ts';
import type { Programs } from './programs.ts';
import type { TranscodeRequest } from './request.ts';
import { buildResolverArgv, splitResolverArgs } from './resolver-argv.ts';
import type { SpecCatalog, TranscodeSpec } from './spec.ts';
import { maskInput, resolverStreamId, transcodeStreamId } from './stream-id.ts';
import { renderTemplate } from './template.ts';
import { detectHardware, type HardwareAcceleration, parseHwaccels } from './hwaccel.ts';
import { runProgram } from '../../core/process/program.ts';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TranscodeServiceDeps {
  streams: StreamService;
  catalog: SpecCatalog;
  programs: Programs;
  config: TranscodeConfig;
  rootPath: string;
}

const TS_OUTPUT: OutputInfo = { kind: 'ts', format: 'mpegts', contentType: 'video/mp2t' };

export type TranscodeService = ReturnType<typeof createTranscodeService>;

export function createTranscodeService(deps: TranscodeServiceDeps) {
  const { streams, catalog, config } = deps;
  /** Detected once, at the first /info. */
  let hardware: Promise<HardwareAcceleration> | undefined;

  async function requireProgram(name: ProgramName): Promise<void> {
    const probe = await deps.programs.probe(name);
    if (!probe.found) throw new ProgramNotFoundError(name, 503);
  }

  function endpoints(stream: StreamRecord, output: OutputInfo): { stream_endpoint: string; playlist_url: string | null; direct_url: string } {
    if (output.kind === 'hls') {
      const url = `${deps.rootPath}/hls/${stream.id}/playlist.m3u8`;
      return { stream_endpoint: url, playlist_url: url, direct_url: url };
    }
    const url = `${deps.rootPath}/stream/${stream.id}`;
    return { stream_endpoint: url, playlist_url: null, direct_url: url };
  }

  /** The spec is kept for playback; the answer's first fields. */
  async function register(spec: TranscodeSpec, stream: StreamRecord): Promise<Record<string, unknown>> {
    catalog.set(spec);
    await streams.saved();
    return { stream_id: stream.id, primary_url: stream.url, failover_urls: [...stream.failoverUrls] };
  }

  async function createFfmpeg(req: Extract<TranscodeRequest, { kind: 'ffmpeg' }>): Promise<Record<string, unknown>> {
    const raw = req.profile.startsWith('-');
    const builtin = raw ? undefined : findBuiltin(req.profile);
    if (!raw && !builtin) throw new BadRequestError(`Profile '${req.profile}' not found. Available profiles: ${builtinNames()}`, 'PROFILE_NOT_FOUND');
    const template = builtin?.parameters ?? req.profile;
    const url = req.stream.url;
    const vars = { format: req.outputFormat, ...req.variables, input_url: url, output_args: 'pipe:1' };
    const rendered = renderTemplate(template, vars);
    checkTemplateArgs(rendered);
    await requireProgram('ffmpeg');
    const output = detectOutput(rendered.args);
    const masked = maskInput(rendered.args, rendered.inputIndex);
    const id = transcodeStreamId(url, output.kind, masked);
    const profileName = builtin?.name ?? 'custom';
    const metadata = {
      transcoding: 'true',
      profile: profileName,
      profile_variables: JSON.stringify(req.variables),
      ffmpeg_args: masked.join(' '),
      ...req.stream.metadata,
    };
    const { stream } = streams.create({ ...req.stream, metadata, kind: output.kind === 'hls' ? 'hls' : 'direct' }, id);
    const spec: TranscodeSpec = {
      streamId: id,
      program: 'ffmpeg',
      output,
      maskedArgs: masked,
      async prepare(inputUrl, hlsDir) {
        const { argv } = buildFfmpegArgv({ rendered, url: inputUrl, userAgent: streams.userAgentOf(stream), headers: stream.headers, hlsDir });
        if (hlsDir !== undefined) return { args: argv, cwd: hlsDir };
        // A relative file a template names (a second output, -report) lands in a private directory that goes with the process.
        const cwd = await mkdtemp(join(tmpdir(), 'm3u_proxy_run_'));
        return { args: argv, cwd, cleanup: () => rm(cwd, { recursive: true, force: true }) };
      },
    };
    const body: Record<string, unknown> = {
      ...(await register(spec, stream)),
      user_agent: streams.userAgentOf(stream),
      stream_type: 'transcoded',
      ...endpoints(stream, output),
      format: output.kind === 'hls' ? 'hls' : (output.format ?? 'mpegts'),
      profile: profileName,
      // The input URL (provider credentials) is never echoed (defect D17).
      profile_variables: { ...vars, input_url: '<input>' },
      ffmpeg_args: masked,
      message: output.kind === 'hls' ? 'Transcoded stream created successfully (HLS output)' : `Transcoded stream created successfully (direct ${(output.format ?? 'mpegts').toUpperCase()} pipe)`,
    };
    if (Object.keys(req.stream.metadata).length > 0) body['metadata'] = { ...req.stream.metadata };
    return body;
  }

  async function createResolver(req: Extract<TranscodeRequest, { kind: 'resolver' }>): Promise<Record<string, unknown>> {
    const program: ProgramName = req.resolver === 'streamlink' ? 'streamlink' : 'yt-dlp';
    if (req.resolver === 'streamlink' && !config.streamlinkEnabled) throw new BadRequestError('Streamlink resolver is disabled (STREAMLINK_ENABLED=false)');
    if (req.resolver === 'ytdlp' && !config.ytdlpEnabled) throw new BadRequestError('yt-dlp resolver is disabled (YTDLP_ENABLED=false)');
    const args = splitResolverArgs(req.resolver, req.resolverArgs);
    let cookiesFile: string | undefined;
    if (req.cookiesPath !== undefined) {
      const check = await checkCookiesFile(config.cookiesDir, req.cookiesPath);
      if (!check.valid) throw new BadRequestError(`cookies_path: ${check.message}`);
      cookiesFile = check.path;
    }
    await requireProgram(program);
    const url = req.stream.url;
    const id = resolverStreamId(url, req.resolver, args);
    const metadata = { transcoding: 'true', resolver: req.resolver, resolver_args: req.resolverArgs, ...req.stream.metadata };
    const { stream } = streams.create({ ...req.stream, metadata, kind: 'direct' }, id);
    const inline = req.cookies;
    const spec: TranscodeSpec = {
      streamId: id,
      program,
      output: TS_OUTPUT,
      maskedArgs: args,
      async prepare(inputUrl) {
        // Read at each start: the file may have been refreshed since the request.
        const content = inline ?? (cookiesFile !== undefined ? await readFile(cookiesFile, 'utf8') : undefined);
        const common = { resolver: req.resolver, url: inputUrl, args, userAgent: streams.userAgentOf(stream), headers: stream.headers };
        if (content === undefined) return { args: buildResolverArgv({ ...common, cookies: [], cookiesFile: undefined }) };
        if (req.resolver === 'streamlink') return { args: buildResolverArgv({ ...common, cookies: parseNetscapeCookies(content), cookiesFile: undefined }) };
        const temp = await writeCookiesTemp(content);
        return { args: buildResolverArgv({ ...common, cookies: [], cookiesFile: temp.path }), cleanup: temp.remove };
      },
    };
    const body: Record<string, unknown> = {
      ...(await register(spec, stream)),
      stream_type: 'resolver',
      ...endpoints(stream, TS_OUTPUT),
      playlist_url: null,
      format: 'mpegts',
      resolver: req.resolver,
      resolver_args: req.resolverArgs,
      message: `Resolver stream created successfully (${req.resolver})`,
    };
    if (Object.keys(req.stream.metadata).length > 0) body['metadata'] = { ...req.stream.metadata };
    return body;
  }

  return {
    create: (req: TranscodeRequest): Promise<Record<string, unknown>> => (req.kind === 'ffmpeg' ? createFfmpeg(req) : createResolver(req)),
    /** The stream's spec; undefined for a plain stream. */
    specFor: (stream: StreamRecord): TranscodeSpec | undefined => catalog.get(stream.id),
    cookiesCheck: (path: string | null) => checkCookiesFile(config.cookiesDir, path),
    /** /info (research §3.4): program versions or null (null too for a disabled resolver), and whether FFmpeg works. */
    async info(): Promise<{
      ffmpeg_version: string | null;
      streamlink_version: string | null;
      ytdlp_version: string | null;
      hardware_acceleration: HardwareAcceleration & { ffmpeg_args: string[] };
      transcoding: { enabled: boolean; profiles: Record<string, string> };
    }> {
      const version = async (name: ProgramName, enabled: boolean): Promise<string | null> => {
        if (!enabled) return null;
        const probe = await deps.programs.probe(name);
        return probe.found ? probe.version : null;
      };
      const [ffmpeg, streamlink, ytdlp] = await Promise.all([version('ffmpeg', true), version('streamlink', config.streamlinkEnabled), version('yt-dlp', config.ytdlpEnabled)]);
      hardware ??= detectHardware({
        driDir: '/dev/dri',
        nvidiaSmi: 'nvidia-smi',
        forced: config.hwAccel ?? {},
        ffmpegHwaccels: async () => (ffmpeg === null ? [] : parseHwaccels((await runProgram(config.ffmpegPath, ['-hide_banner', '-hwaccels'])).stdout)),
      });
      return {
        ffmpeg_version: ffmpeg,
        // The built-in profiles add no hardware arguments: ffmpeg_args stays empty.
        hardware_acceleration: { ...(await hardware), ffmpeg_args: [] },
        streamlink_version: streamlink,
        ytdlp_version: ytdlp,
        transcoding: { enabled: ffmpeg !== null, profiles: Object.fromEntries(BUILTIN_PROFILES.map((p) => [p.name, p.description])) },
      };
    },
  };
}
