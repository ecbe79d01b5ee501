import qrcode from "qrcode-generator";

/** `data` as a QR code of text blocks, for scanning off the terminal. */
export function qrText(data: string): string {
  const qr = qrcode(0, "M");
  qr.addData(data);
  qr.make();
  return qr.createASCII(1, 2);
}
