from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator


def page_of(items, *, per_page: int, number) -> tuple[Paginator, object]:
    """The requested page of `items`; the first page for nonsense, the last for a number past the end."""
    paginator = Paginator(items, per_page)
    try:
        return paginator, paginator.page(number)
    except PageNotAnInteger:
        return paginator, paginator.page(1)
    except EmptyPage:
        return paginator, paginator.page(paginator.num_pages)
