from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """
    DRF's JSON parser, answering a body nested too deeply for Python's decoder (about 1,000
    levels) with a 400 like any other malformed body, instead of a RecursionError (500).
    """

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None
