import { DestroyRef, Injectable, InjectionToken, inject, signal } from '@angular/core';

/** The longest clip the 语音识别 tab records; recording stops by itself there. */
export const MAX_RECORDING_MS = 120_000;

/** What recording needs from the browser; absent where it is not offered (plain http to another host, older browsers, tests). */
export interface RecordingEnvironment {
  getUserMedia: ((constraints: MediaStreamConstraints) => Promise<MediaStream>) | null;
  createRecorder: ((stream: MediaStream) => MediaRecorder) | null;
}

export const RECORDING_ENVIRONMENT = new InjectionToken<RecordingEnvironment>('RECORDING_ENVIRONMENT', {
  providedIn: 'root',
  factory: () => {
    const devices = typeof navigator === 'undefined' ? undefined : navigator.mediaDevices;
    const Recorder = typeof MediaRecorder === 'undefined' ? undefined : MediaRecorder;
    return {
      getUserMedia: devices?.getUserMedia ? (c) => devices.getUserMedia(c) : null,
      createRecorder: Recorder ? (stream) => new Recorder(stream) : null,
    };
  },
});

/** `audio/webm;codecs=opus` → webm: the file name's extension for what the browser recorded. */
export function recordingExtension(mime: string): string {
  if (mime.includes('ogg')) return 'ogg';
  if (mime.includes('mp4') || mime.includes('aac')) return 'm4a';
  if (mime.includes('wav')) return 'wav';
  return 'webm';
}

/** Why the microphone could not be used, in words. */
export function microphoneError(err: unknown): string {
  const name = (err as { name?: string } | null)?.name;
  if (name === 'NotAllowedError' || name === 'SecurityError') return '没有麦克风权限：请在浏览器的地址栏中允许本站使用麦克风。';
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return '没有找到可用的麦克风。';
  if (name === 'NotReadableError') return '麦克风正被其他程序占用。';
  return `无法录音：${(err as Error)?.message || String(err)}`;
}

const pad = (n: number) => String(n).padStart(2, '0');

/**
 * Records a clip from the microphone with MediaRecorder (webm/opus in Chromium and Firefox, mp4
 * in Safari; the gateway tells them apart by their first bytes). One recording at a time; the
 * microphone is released as soon as it stops.
 */
@Injectable()
export class AudioRecorder {
  private readonly env = inject(RECORDING_ENVIRONMENT);

  /** Browsers offer recording only to secure pages (https, localhost). */
  readonly supported = this.env.getUserMedia !== null && this.env.createRecorder !== null;
  readonly state = signal<'idle' | 'starting' | 'recording'>('idle');
  readonly elapsedMs = signal(0);
  readonly error = signal<string | null>(null);

  private recorder: MediaRecorder | null = null;
  private stream: MediaStream | null = null;
  private timer: ReturnType<typeof setInterval> | undefined;
  private cancelled = false;

  constructor() {
    inject(DestroyRef).onDestroy(() => this.cancel());
  }

  /** Asks for the microphone and records until stop() (or MAX_RECORDING_MS); `done` gets the clip. */
  async start(done: (file: File) => void): Promise<void> {
    if (!this.supported || this.state() !== 'idle') return;
    this.error.set(null);
    this.state.set('starting');
    this.cancelled = false;
    let stream: MediaStream;
    try {
      stream = await this.env.getUserMedia!({ audio: true });
    } catch (err) {
      this.state.set('idle');
      this.error.set(microphoneError(err));
      return;
    }
    if (this.cancelled) {
      release(stream);
      this.state.set('idle');
      return;
    }
    const recorder = this.env.createRecorder!(stream);
    const chunks: Blob[] = [];
    const startedAt = Date.now();
    recorder.ondataavailable = (e) => {
      if (e.data.size) chunks.push(e.data);
    };
    recorder.onstop = () => {
      this.finish();
      if (this.cancelled || !chunks.length) return;
      const type = recorder.mimeType || chunks[0]!.type || 'audio/webm';
      const d = new Date();
      done(new File(chunks, `录音-${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}.${recordingExtension(type)}`, { type }));
    };
    this.recorder = recorder;
    this.stream = stream;
    recorder.start();
    this.state.set('recording');
    this.elapsedMs.set(0);
    this.timer = setInterval(() => {
      this.elapsedMs.set(Date.now() - startedAt);
      if (Date.now() - startedAt >= MAX_RECORDING_MS) this.stop();
    }, 200);
  }

  /** Stops recording; the clip goes to start()'s `done`. */
  stop(): void {
    if (this.recorder?.state === 'recording') this.recorder.stop();
    else this.finish();
  }

  /** Stops and throws the clip away (the page is going). */
  cancel(): void {
    this.cancelled = true;
    this.stop();
  }

  private finish(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    if (this.stream) release(this.stream);
    this.stream = null;
    this.recorder = null;
    this.state.set('idle');
  }
}

function release(stream: MediaStream): void {
  for (const track of stream.getTracks()) track.stop();
}
