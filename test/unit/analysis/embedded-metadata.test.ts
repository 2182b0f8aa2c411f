import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { readEmbeddedMetadata, readLegacyExif } from '../../../src/analysis/embedded-metadata.js';
import { iptcApp13Segment, iptcDataset, jpegWithAllMetadata, SAMPLE_EXIF, SAMPLE_XMP, spliceAfterSoi } from '../../helpers/metadata-fixtures.js';

let jpeg: Buffer;
beforeAll(async () => {
  jpeg = await jpegWithAllMetadata();
});

const plainJpeg = () => sharp({ create: { width: 8, height: 8, channels: 3, background: '#000' } }).jpeg().toBuffer();

describe('readEmbeddedMetadata', () => {
  it('merges EXIF, IPTC and XMP into one flat object with readable values', async () => {
    const meta = await readEmbeddedMetadata(jpeg);
    expect(meta).toMatchObject({
      // EXIF (IFD0, Exif IFD, GPS, interoperability)
      Make: 'Canon',
      Model: 'EOS 5D',
      Copyright: 'Jane Doe 2024',
      Orientation: 'Horizontal (normal)',
      ResolutionUnit: 'inches',
      ColorSpace: 'Uncalibrated',
      ComponentsConfiguration: 'Y, Cb, Cr, -',
      ModifyDate: '2019-10-17T08:00:00.000Z',
      DateTimeOriginal: '2019-10-16T19:01:03.000Z',
      ExposureTime: 0.008,
      FNumber: 2.8,
      ISO: 200,
      UserComment: 'hello there',
      GPSVersionID: '2.2.0.0',
      GPSLatitudeRef: 'S',
      InteropIndex: 'R98',
      // IPTC
      Keywords: ['sunset', 'plage été'],
      Byline: 'John Smith',
      City: 'Nice',
      ApplicationRecordVersion: 4,
      // XMP
      creator: 'Jane Doe',
      subject: ['alpha', 'beta'],
      title: 'Sunset',
      Headline: 'Evening light',
      CreatorCity: 'Lyon',
    });
    expect(meta.latitude).toBeCloseTo(-(33 + 52 / 60 + 12 / 3600), 6);
    expect(meta.longitude).toBeCloseTo(151 + 12 / 60 + 36 / 3600, 6);
    // No group prefixes, no exifr bookkeeping, nothing binary.
    for (const [key, value] of Object.entries(meta)) {
      expect(key).not.toMatch(/[:.]/);
      expect(value).not.toBeInstanceOf(Uint8Array);
    }
    expect(meta).not.toHaveProperty('errors');
    expect(meta).not.toHaveProperty('ExifIFD');
  });

  it('lets EXIF win over IPTC, and IPTC over XMP, for the same name', async () => {
    const withClashes = spliceAfterSoi(
      await sharp({ create: { width: 8, height: 8, channels: 3, background: '#000' } })
        .jpeg()
        .withExif({ IFD0: { Copyright: 'from EXIF' } })
        .withXmp(SAMPLE_XMP) // photoshop:City="Paris", dc:creator
        .toBuffer(),
      iptcApp13Segment([iptcDataset(2, 90, 'Nice'), iptcDataset(2, 116, 'from IPTC')]),
    );
    const meta = await readEmbeddedMetadata(withClashes);
    expect(meta.City).toBe('Nice');
    expect(meta.Copyright).toBe('from EXIF');
    expect(meta.CopyrightNotice).toBe('from IPTC');
  });

  it('gives a single keyword as a string and repeated ones as an array', async () => {
    const one = spliceAfterSoi(await plainJpeg(), iptcApp13Segment([iptcDataset(2, 25, 'solo')]));
    expect(await readEmbeddedMetadata(one)).toEqual({ Keywords: 'solo' });
  });

  it('reads EXIF dates as UTC whatever the server time zone', async () => {
    const previous = process.env.TZ;
    process.env.TZ = 'America/New_York';
    try {
      // 02:30 on 2019-03-10 does not exist in New York (DST starts); a local-time parse would shift it.
      const dst = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#000' } })
        .jpeg()
        .withExif({ IFD2: { DateTimeOriginal: '2019:03:10 02:30:00' } })
        .toBuffer();
      expect((await readEmbeddedMetadata(dst)).DateTimeOriginal).toBe('2019-03-10T02:30:00.000Z');
    } finally {
      if (previous === undefined) delete process.env.TZ;
      else process.env.TZ = previous;
    }
  });

  it('reads EXIF and XMP from WebP, PNG and AVIF through sharp', async () => {
    for (const format of ['webp', 'png', 'avif'] as const) {
      const image = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#000' } })
        .withExif(SAMPLE_EXIF)
        .withXmp(SAMPLE_XMP)
        .toFormat(format)
        .toBuffer();
      expect(await readEmbeddedMetadata(image), format).toMatchObject({
        Make: 'Canon',
        DateTimeOriginal: '2019-10-16T19:01:03.000Z',
        creator: 'Jane Doe',
      });
    }
  });

  it('reads the EXIF of a HEIC file (through sharp: exifr calls this EXIF item malformed)', async () => {
    const heic = readFileSync(new URL('../../fixtures/small.heic', import.meta.url));
    expect(await readEmbeddedMetadata(heic)).toMatchObject({
      Make: 'Stowage',
      Model: 'Fixture',
      DateTimeOriginal: '2024-01-02T03:04:05.000Z',
    });
    expect((await readLegacyExif(heic)).exif).toMatchObject({ DateTimeOriginal: '2024:01:02 03:04:05' });
  });

  it('returns {} when there is no metadata or the data is not an image', async () => {
    expect(await readEmbeddedMetadata(await plainJpeg())).toEqual({});
    expect(await readEmbeddedMetadata(Buffer.from('hello'))).toEqual({});
    expect(await readEmbeddedMetadata(Buffer.alloc(0))).toEqual({});
  });
});

describe('readLegacyExif', () => {
  it('groups raw EXIF values by IFD, ImageKit style', async () => {
    const exif = await readLegacyExif(jpeg);
    expect(exif.image).toMatchObject({ Make: 'Canon', Model: 'EOS 5D', Orientation: 1, ResolutionUnit: 2, ModifyDate: '2019:10:17 08:00:00' });
    expect(exif.exif).toMatchObject({
      DateTimeOriginal: '2019:10:16 19:01:03',
      ExposureTime: 0.008,
      ISO: 200,
      ColorSpace: 65535,
      ExifVersion: [48, 50, 49, 48],
      ExifImageWidth: 32,
    });
    expect(exif.gps).toEqual({
      GPSVersionID: [2, 2, 0, 0],
      GPSLatitudeRef: 'S',
      GPSLatitude: [33, 52, 12],
      GPSLongitudeRef: 'E',
      GPSLongitude: [151, 12, 36],
    });
    expect(exif.interoperability).toEqual({ InteropIndex: 'R98' });
    expect(exif.thumbnail).toEqual({});
    expect(exif.makernote).toEqual({});
    expect(exif.image).toHaveProperty('ExifOffset');
    // IPTC and XMP are not EXIF.
    expect(JSON.stringify(exif)).not.toMatch(/Keywords|creator/);
  });

  it('fills IFD1 as thumbnail', async () => {
    const withIfd1 = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#000' } })
      .jpeg()
      .withExif({ IFD0: { Make: 'X' }, IFD1: { Compression: '6' } })
      .toBuffer();
    expect((await readLegacyExif(withIfd1)).thumbnail).toEqual({ Compression: 6 });
  });

  it('gives every group as {} when there is no EXIF', async () => {
    const empty = { image: {}, thumbnail: {}, exif: {}, gps: {}, interoperability: {}, makernote: {} };
    expect(await readLegacyExif(await plainJpeg())).toEqual(empty);
    expect(await readLegacyExif(Buffer.from('not an image'))).toEqual(empty);
  });
});
