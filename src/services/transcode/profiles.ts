// The built-in profiles `POST /transcode` accepts by name (the reference's seven, research §3.2), and the five
// StreamProfiles m3u-editor generates (research §4.2), which reach us as raw templates. CPU encoders only: hardware
// acceleration is not detected here, so no `{hw}` input arguments are added.

export interface BuiltinProfile {
  name: string;
  description: string;
  parameters: string;
}

const X264 = '-c:v libx264 -preset faster';

export const BUILTIN_PROFILES: readonly BuiltinProfile[] = [
  {
    name: 'default',
    description: 'H.264 at a fixed bit rate, AAC audio',
    parameters: `-i {input_url} ${X264} -b:v {video_bitrate|2M} -c:a aac -b:a {audio_bitrate|128k} -f {format|mp4} {output_args|}`,
  },
  {
    name: 'hq',
    description: 'H.264 at constant quality, AAC 192k',
    parameters: `-i {input_url} ${X264} -crf {crf|23} -c:a aac -b:a {audio_bitrate|192k} -f {format|mp4} {output_args|}`,
  },
  {
    name: 'lowlatency',
    description: 'H.264 tuned for zero latency, low bit rate',
    parameters: `-i {input_url} ${X264} -tune zerolatency -b:v {video_bitrate|1M} -c:a aac -b:a {audio_bitrate|96k} -f {format|mpegts} {output_args|}`,
  },
  {
    name: '720p',
    description: 'H.264 scaled to 1280x720',
    parameters: `-i {input_url} ${X264} -vf scale=1280:720 -b:v {video_bitrate|2500k} -c:a aac -b:a {audio_bitrate|128k} -f {format|mp4} {output_args|}`,
  },
  {
    name: '1080p',
    description: 'H.264 scaled to 1920x1080',
    parameters: `-i {input_url} ${X264} -vf scale=1920:1080 -b:v {video_bitrate|5000k} -c:a aac -b:a {audio_bitrate|192k} -f {format|mp4} {output_args|}`,
  },
  {
    name: 'hevc',
    description: 'H.265 at a fixed bit rate, AAC audio',
    parameters: `-i {input_url} -c:v libx265 -preset faster -b:v {video_bitrate|2M} -c:a aac -b:a {audio_bitrate|128k} -f {format|mp4} {output_args|}`,
  },
  {
    name: 'audio',
    description: 'Audio only, AAC',
    parameters: '-i {input_url} -vn -c:a aac -b:a {audio_bitrate|192k} -f {format|adts} {output_args|}',
  },
];

export const DEFAULT_VARIABLES: Readonly<Record<string, string>> = {
  input_url: '',
  output_args: '',
  video_bitrate: '2M',
  audio_bitrate: '128k',
  format: 'mp4',
  crf: '23',
};

export function findBuiltin(name: string): BuiltinProfile | undefined {
  return BUILTIN_PROFILES.find((p) => p.name === name);
}

export function builtinNames(): string {
  return BUILTIN_PROFILES.map((p) => p.name).join(', ');
}

const EDITOR_CBR = '-fflags +genpts+discardcorrupt+igndts -i {input_url} -c:v libx264 -preset faster -b:v {bitrate|2000k} -maxrate {maxrate|2500k} -bufsize {bufsize|2500k} -c:a aac -b:a {audio_bitrate|128k}';

/** m3u-editor's "Generate Default Profiles", verbatim: what its users send as `profile` or `resolver_args`. */
export const EDITOR_DEFAULT_PROFILES = {
  live: `${EDITOR_CBR} -f mpegts {output_args|pipe:1}`,
  hls: `${EDITOR_CBR} -hls_time 2 -hls_list_size 30 -hls_flags program_date_time -f hls {output_args|index.m3u8}`,
  hlsFmp4: `${EDITOR_CBR} -hls_time 2 -hls_list_size 30 -hls_flags program_date_time -hls_segment_type fmp4 -f hls {output_args|index.m3u8}`,
  streamlink: 'best --hls-live-edge 3',
  ytdlp: 'bestvideo+bestaudio/best --no-playlist',
} as const;
