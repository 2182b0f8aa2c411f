import sharp from 'sharp';

/** One IPTC IIM dataset: 0x1C, record, dataset number, 16-bit length, value. */
export function iptcDataset(record: number, dataset: number, value: string | Buffer): Buffer {
  const data = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const head = Buffer.from([0x1c, record, dataset, (data.length >> 8) & 0xff, data.length & 0xff]);
  return Buffer.concat([head, data]);
}

/** A JPEG APP13 segment: "Photoshop 3.0" and one 8BIM 0x0404 (IPTC-NAA) resource holding the datasets. */
export function iptcApp13Segment(datasets: Buffer[]): Buffer {
  const iptc = Buffer.concat(datasets);
  const size = Buffer.alloc(4);
  size.writeUInt32BE(iptc.length);
  const padding = Buffer.alloc(iptc.length % 2); // resource data is padded to an even length
  const resource = Buffer.concat([Buffer.from('8BIM'), Buffer.from([0x04, 0x04, 0x00, 0x00]), size, iptc, padding]);
  const payload = Buffer.concat([Buffer.from('Photoshop 3.0\0', 'latin1'), resource]);
  const length = Buffer.alloc(2);
  length.writeUInt16BE(payload.length + 2);
  return Buffer.concat([Buffer.from([0xff, 0xed]), length, payload]);
}

/** Inserts a segment right after the JPEG SOI marker. */
export function spliceAfterSoi(jpeg: Buffer, segment: Buffer): Buffer {
  if (jpeg[0] !== 0xff || jpeg[1] !== 0xd8) throw new Error('not a JPEG');
  return Buffer.concat([jpeg.subarray(0, 2), segment, jpeg.subarray(2)]);
}

/** An XMP packet with dc:creator, dc:subject (2), dc:title (language alternatives) and a creator city. */
export const SAMPLE_XMP = `<?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"
  xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"
  xmlns:Iptc4xmpCore="http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/"
  photoshop:City="Paris" photoshop:Headline="Evening light">
<dc:creator><rdf:Seq><rdf:li>Jane Doe</rdf:li></rdf:Seq></dc:creator>
<dc:subject><rdf:Bag><rdf:li>alpha</rdf:li><rdf:li>beta</rdf:li></rdf:Bag></dc:subject>
<dc:title><rdf:Alt><rdf:li xml:lang="fr">Coucher</rdf:li><rdf:li xml:lang="x-default">Sunset</rdf:li></rdf:Alt></dc:title>
<Iptc4xmpCore:CreatorContactInfo rdf:parseType="Resource"><Iptc4xmpCore:CiAdrCity>Lyon</Iptc4xmpCore:CiAdrCity></Iptc4xmpCore:CreatorContactInfo>
</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>`;

/** EXIF written by sharp (libvips names: IFD0, IFD2 = Exif IFD, IFD3 = GPS, IFD4 = interoperability). */
export const SAMPLE_EXIF = {
  IFD0: { Make: 'Canon', Model: 'EOS 5D', Copyright: 'Jane Doe 2024', DateTime: '2019:10:17 08:00:00' },
  IFD2: {
    DateTimeOriginal: '2019:10:16 19:01:03',
    ISOSpeedRatings: '200',
    ExposureTime: '1/125',
    FNumber: '28/10',
    UserComment: 'hello there',
  },
  IFD3: { GPSVersionID: '2 2 0 0', GPSLatitudeRef: 'S', GPSLatitude: '33/1 52/1 12/1', GPSLongitudeRef: 'E', GPSLongitude: '151/1 12/1 36/1' },
  IFD4: { InteroperabilityIndex: 'R98' },
};

/** A small JPEG carrying SAMPLE_EXIF, SAMPLE_XMP and IPTC Keywords ×2, By-line and City. */
export async function jpegWithAllMetadata(): Promise<Buffer> {
  const jpeg = await sharp({ create: { width: 32, height: 24, channels: 3, background: '#808080' } })
    .jpeg({ quality: 80 })
    .withExif(SAMPLE_EXIF)
    .withXmp(SAMPLE_XMP)
    .toBuffer();
  const app13 = iptcApp13Segment([
    iptcDataset(2, 0, Buffer.from([0x00, 0x04])),
    iptcDataset(2, 25, 'sunset'),
    iptcDataset(2, 25, 'plage été'),
    iptcDataset(2, 80, 'John Smith'),
    iptcDataset(2, 90, 'Nice'),
  ]);
  return spliceAfterSoi(jpeg, app13);
}
