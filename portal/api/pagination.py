from rest_framework.pagination import PageNumberPagination


class PortalPagination(PageNumberPagination):
    """`?page=N&page_size=M` (at most 200 a page); answers carry `count`, `next`, `previous`."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
