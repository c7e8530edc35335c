"""Model importers: each turns a foreign model into a neutral description that
`tinylite.converter` lowers to TFLite operators."""
