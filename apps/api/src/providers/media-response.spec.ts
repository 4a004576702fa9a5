import { UpstreamError } from './provider-adapter.ts';
import { checkAudioBytes, checkImageBytes, decodeImage } from './media-response.ts';

const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACAQMAAABIeJ9nAAAAA1BMVEUKyApJGwxUAAAAJ3RFWHRTb2Z0d2FyZQBncHQ0ZnJlZS1wb29sIGVtdWxhdG9yICMwYWM4MGE690YXAAAADElEQVR4nGNgYGAAAAAEAAH2FzhVAAAAAElFTkSuQmCC',
  'base64',
);
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46]);
const MP3 = Buffer.concat([Buffer.from([0xff, 0xfb, 0x14, 0xc4]), Buffer.alloc(92)]);
const WAV = Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), Buffer.from('WAVEfmt '), Buffer.alloc(32)]);

function invalidMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as UpstreamError).kind).toBe('invalid');
    return (err as UpstreamError).message;
  }
  throw new Error('expected an invalid answer');
}

describe('checkImageBytes', () => {
  it('trusts the bytes, not the header, for the format', () => {
    expect(checkImageBytes(PNG, 'image/jpeg').mime).toBe('image/png');
    expect(checkImageBytes(JPEG, 'application/octet-stream').mime).toBe('image/jpeg');
    expect(checkImageBytes(JPEG, undefined).mime).toBe('image/jpeg');
  });

  it('rejects HTML, JSON errors, empty bodies, other types and bytes that are no image', () => {
    expect(invalidMessage(() => checkImageBytes(Buffer.from('<!DOCTYPE html><p>Just a moment'), 'text/html; charset=utf-8'))).toContain('HTML page');
    expect(invalidMessage(() => checkImageBytes(Buffer.from('{"error":{"message":"model is loading"}}'), 'application/json'))).toContain('model is loading');
    expect(invalidMessage(() => checkImageBytes(Buffer.alloc(0), 'image/png'))).toContain('empty body');
    expect(invalidMessage(() => checkImageBytes(PNG, 'video/mp4'))).toContain('video/mp4');
    expect(invalidMessage(() => checkImageBytes(Buffer.from('garbage: not an image'), 'image/jpeg'))).toContain('not a PNG, JPEG');
  });
});

describe('decodeImage', () => {
  it('reads plain base64 and data URLs', () => {
    expect(decodeImage(PNG.toString('base64'), 'x').mime).toBe('image/png');
    expect(decodeImage(`data:image/png;base64,${PNG.toString('base64')}`, 'x').data.equals(PNG)).toBe(true);
    expect(invalidMessage(() => decodeImage('data:image/png,rawtext', 'img'))).toBe('img is not base64');
  });
});

describe('checkAudioBytes', () => {
  it('answers with the content type OpenAI uses for the asked format', () => {
    expect(checkAudioBytes(MP3, 'audio/mpeg', 'mp3').mime).toBe('audio/mpeg');
    expect(checkAudioBytes(WAV, 'audio/x-wav', 'wav').mime).toBe('audio/wav');
    expect(checkAudioBytes(Buffer.from([1, 0, 250, 255, 3, 0]), 'application/octet-stream', 'pcm').mime).toBe('audio/pcm');
  });

  it('rejects empty bodies, text, JSON errors and another format than asked for', () => {
    expect(invalidMessage(() => checkAudioBytes(Buffer.alloc(0), 'audio/mpeg', 'mp3'))).toContain('empty body');
    expect(invalidMessage(() => checkAudioBytes(Buffer.from('{"error":"quota"}'), 'application/json', 'mp3'))).toContain('quota');
    expect(invalidMessage(() => checkAudioBytes(Buffer.from('garbage: these bytes are not audio'), 'audio/mpeg', 'mp3'))).toContain('not mp3 audio');
    expect(invalidMessage(() => checkAudioBytes(Buffer.from('garbage: text'), 'audio/pcm', 'pcm'))).toContain('text instead of PCM');
    expect(invalidMessage(() => checkAudioBytes(MP3, 'audio/mpeg', 'wav'))).toBe('upstream answered with mp3 audio where wav was asked for');
  });
});
