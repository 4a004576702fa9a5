import { jest } from '@jest/globals';
import { createHarness, type Harness } from '../../../testing/harness';
import { AudioRecorder, MAX_RECORDING_MS, RECORDING_ENVIRONMENT, type RecordingEnvironment, recordingExtension } from './audio-recorder';

/** A MediaRecorder that hands over one chunk when stopped, as browsers do without a timeslice. */
class FakeRecorder {
  state: 'inactive' | 'recording' = 'inactive';
  ondataavailable: ((e: { data: Blob }) => void) | null = null;
  onstop: (() => void) | null = null;
  constructor(readonly mimeType: string) {}
  start(): void {
    this.state = 'recording';
  }
  stop(): void {
    this.state = 'inactive';
    this.ondataavailable?.({ data: new Blob([new Uint8Array([0x1a, 0x45, 0xdf, 0xa3, 1, 2])], { type: this.mimeType }) });
    this.onstop?.();
  }
}

describe('AudioRecorder (语音识别 · 录音)', () => {
  let h: Harness | undefined;
  let stopped: number;
  afterEach(() => {
    h?.destroy();
    h = undefined;
    jest.useRealTimers();
  });

  function setup(env: Partial<RecordingEnvironment>): AudioRecorder {
    h = createHarness([AudioRecorder, { provide: RECORDING_ENVIRONMENT, useValue: { getUserMedia: null, createRecorder: null, ...env } }]);
    return h.get(AudioRecorder);
  }

  const stream = () => ({ getTracks: () => [{ stop: () => stopped++ }] }) as unknown as MediaStream;

  beforeEach(() => {
    stopped = 0;
  });

  it('is not offered where the browser has no microphone access (plain http to another host)', async () => {
    const recorder = setup({});
    expect(recorder.supported).toBe(false);
    await recorder.start(() => undefined);
    expect(recorder.state()).toBe('idle');
  });

  it('records until stopped: the clip is a file named by the recorded type, and the microphone is released', async () => {
    let recorder: FakeRecorder | undefined;
    const audio = setup({
      getUserMedia: () => Promise.resolve(stream()),
      createRecorder: () => (recorder = new FakeRecorder('audio/webm;codecs=opus')) as unknown as MediaRecorder,
    });
    const files: File[] = [];
    await audio.start((f) => files.push(f));
    expect(audio.state()).toBe('recording');
    expect(recorder!.state).toBe('recording');
    audio.stop();
    expect(audio.state()).toBe('idle');
    expect(stopped).toBe(1);
    expect(files).toHaveLength(1);
    expect(files[0]!.name).toMatch(/^录音-\d{6}\.webm$/);
    expect(files[0]!.type).toBe('audio/webm;codecs=opus');
    expect(files[0]!.size).toBe(6);
  });

  it('stops by itself at MAX_RECORDING_MS', async () => {
    jest.useFakeTimers();
    const audio = setup({
      getUserMedia: () => Promise.resolve(stream()),
      createRecorder: () => new FakeRecorder('audio/ogg') as unknown as MediaRecorder,
    });
    const files: File[] = [];
    await audio.start((f) => files.push(f));
    jest.advanceTimersByTime(MAX_RECORDING_MS + 500);
    expect(audio.state()).toBe('idle');
    expect(files[0]!.name).toMatch(/\.ogg$/);
  });

  it('says in Chinese why the microphone could not be used', async () => {
    const denied = Object.assign(new Error('Permission denied'), { name: 'NotAllowedError' });
    const audio = setup({ getUserMedia: () => Promise.reject(denied), createRecorder: () => new FakeRecorder('audio/webm') as unknown as MediaRecorder });
    await audio.start(() => undefined);
    expect(audio.state()).toBe('idle');
    expect(audio.error()).toBe('没有麦克风权限：请在浏览器的地址栏中允许本站使用麦克风。');
  });

  it('a page that goes away while recording throws the clip away and releases the microphone', async () => {
    const audio = setup({ getUserMedia: () => Promise.resolve(stream()), createRecorder: () => new FakeRecorder('audio/webm') as unknown as MediaRecorder });
    const files: File[] = [];
    await audio.start((f) => files.push(f));
    audio.cancel();
    expect(files).toEqual([]);
    expect(stopped).toBe(1);
  });

  it('names the file by what the browser recorded', () => {
    expect(recordingExtension('audio/webm;codecs=opus')).toBe('webm');
    expect(recordingExtension('audio/ogg;codecs=opus')).toBe('ogg');
    expect(recordingExtension('audio/mp4')).toBe('m4a');
    expect(recordingExtension('')).toBe('webm');
  });
});
